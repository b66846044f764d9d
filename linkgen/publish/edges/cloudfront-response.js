// linkgen edge for CloudFront: the viewer-response function (runtime cloudfront-js-2.0).
// Print it with `linkgen edge cloudfront --event viewer-response`.
//
// The edge keeps an object for its s-maxage (a year, until purged); browsers and
// any cache downstream are told only the max-age, and nothing of S3's own headers
// goes out. (CloudFront runs no viewer-response function for an error answer: the
// 404 page carries a short Cache-Control of its own, and the distribution's
// response headers policy removes the x-amz headers there.)
function handler(event) {
    var response = event.response;
    var headers = response.headers;
    var uri = event.request.uri;
    // A link the edge answers: its object holds the address; the visitor gets a 302
    // and keeps nothing (the object itself stays cached until invalidated).
    if (uri.indexOf("/r/") === 0 && headers["x-amz-meta-location"]) {
        return {
            statusCode: 302,
            statusDescription: "Found",
            headers: {
                location: { value: headers["x-amz-meta-location"].value },
                "cache-control": { value: "no-store, private" }
            }
        };
    }
    if (uri === "/v.gif") {
        headers["cache-control"] = { value: "no-store, private" };
    }
    var cache = headers["cache-control"];
    if (cache && cache.value.indexOf("s-maxage") !== -1) {
        cache.value = cache.value.replace(/,\s*s-maxage=\d+/g, "");
    }
    for (var name in headers) {
        if (name.indexOf("x-amz") === 0) {  // x-amz-*, x-amzn-*
            delete headers[name];
        }
    }
    return response;
}
