# linkgen edge for Varnish + varnish-modules (xkey), in front of an S3 origin.
#
#   /<username>          -> <origin>/<bucket path>/<username>   (cached until purged)
#   PURGE with "xkey: p-<profile id> ..." from an allowed address -> xkey.purge()
#
# Objects are tagged from the x-amz-meta-surrogate-key metadata linkgen stores
# on every object, so purging a profile's key drops exactly its pages.
# Fill in the three @...@ values (linkgen's tests do the same).
vcl 4.1;

import std;
import xkey;

backend origin {
    .host = "@ORIGIN_HOST@";
    .port = "@ORIGIN_PORT@";
}

acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.http.xkey-soft) {
            set req.http.n-gone = xkey.softpurge(req.http.xkey-soft);
        } elsif (req.http.xkey) {
            set req.http.n-gone = xkey.purge(req.http.xkey);
        } else {
            return (synth(400, "PURGE needs an xkey header"));
        }
        return (synth(200, "Purged " + req.http.n-gone + " objects"));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (synth(405, "Method not allowed"));
    }
    unset req.http.Cookie;
    unset req.http.Authorization;
    set req.url = regsub(req.url, "\?.*$", "");
    # linkgen's own bookkeeping (the manifest's copy) is never a visitor's.
    if (req.url ~ "(?i)^/+_linkgen(/|$)" || req.url ~ "(?i)^/+%5flinkgen") {
        return (synth(404, "Not Found"));
    }
    if (req.url ~ "^/$") {
        set req.url = "/index.html";
    }
    set req.url = "@BUCKET_PATH@" + req.url;
    return (hash);
}

sub vcl_backend_response {
    if (beresp.http.x-amz-meta-surrogate-key) {
        set beresp.http.xkey = beresp.http.x-amz-meta-surrogate-key;
    }
    if (beresp.status >= 400) {
        # A missing page may be created at any moment, and nothing would
        # purge a cached 404: never keep one, not even as hit-for-miss.
        set beresp.ttl = 0s;
        set beresp.grace = 0s;
        return (deliver);
    }
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    unset resp.http.xkey;
    unset resp.http.x-amz-meta-surrogate-key;
    unset resp.http.x-amz-meta-surrogate-control;
    unset resp.http.x-amz-request-id;
    unset resp.http.x-amz-id-2;
}
