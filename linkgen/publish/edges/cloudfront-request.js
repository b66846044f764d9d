// linkgen edge for CloudFront: the viewer-request function (runtime cloudfront-js-2.0).
// Print it with `linkgen edge cloudfront --event viewer-request`; docs/publishing.md
// gives the distribution settings it goes with (the 404 page is the distribution's
// error response for 403 and 404).
//
//   /<User>, /<user>/   -> 301 to /<user> (usernames are lower case)
//   /                   -> /index.html, the site's home page
//   /_linkgen/...       -> a key that cannot exist, so the 404 page answers
//   ?query              -> dropped: pages do not vary by query string
//   /r/<link id>        -> the object r/<link id> (the viewer-response function
//                          answers it with a 302), /v/<profile id> -> /v.gif
function handler(event) {
    var request = event.request;
    var uri = request.uri;
    request.querystring = {};
    // linkgen's own bookkeeping (the manifest's copy) is never a visitor's.
    if (/^\/+(_|%5f)linkgen(\/|$)/i.test(uri)) {
        request.uri = "/_refused";
        return request;
    }
    // Links the edge answers ([redirector] mode = "edge"), and the view beacon.
    if (/^\/r\/[A-Za-z0-9]{12}$/.test(uri)) {
        return request;
    }
    if (/^\/v\/[A-Za-z0-9]{12}$/.test(uri)) {
        request.uri = "/v.gif";
        return request;
    }
    // One address per page: /Ada and /ada/ are /ada.
    if (/^\/[^\/]+\/+$/.test(uri) || (/[A-Z]/.test(uri) && uri.indexOf("/_m/") !== 0)) {
        return {
            statusCode: 301,
            statusDescription: "Moved Permanently",
            headers: {
                location: { value: uri.replace(/\/+$/, "").toLowerCase() },
                "cache-control": { value: "public, max-age=3600" }
            }
        };
    }
    if (uri === "/") {
        request.uri = "/index.html";
    }
    return request;
}
