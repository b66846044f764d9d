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
