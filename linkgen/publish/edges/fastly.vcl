# linkgen edge for Fastly: a custom VCL for a service whose backend is the S3 bucket
# (override host: the bucket's endpoint). Print it with `linkgen edge fastly`; it is
# linkgen's Varnish VCL (`linkgen edge vcl`) in Fastly's dialect.
#
#   /<username>          -> the object, cached until purged (Surrogate-Key from
#                           x-amz-meta-surrogate-key; purged by key through the API)
#   /<User>, /<user>/    -> 301 to /<user>
#   /                    -> /index.html, the site's home page
#   /r/<link id>         -> 302 to the link's address (the object r/<link id>)
#   a missing or forbidden key, /_linkgen/... -> the site's 404.html, status 404
#
# Fastly keeps an object for its s-maxage (a year, until purged); browsers and
# downstream caches are told only the max-age. Text is gzipped for clients that
# accept it.

sub vcl_recv {
#FASTLY recv
    if (req.method != "GET" && req.method != "HEAD") {
        error 405 "Method not allowed";
    }
    unset req.http.Cookie;
    unset req.http.Authorization;
    if (req.restarts == 0) {
        unset req.http.x-lg-missing;  # set only here, never by a visitor
        set req.url = req.url.path;
        set req.http.x-lg-path = req.url;  # the address asked for, for the access log
        unset req.http.x-lg-link;
        unset req.http.x-lg-beacon;
        # Links the edge answers ([redirector] mode = "edge"), and the view beacon.
        if (req.url ~ "^/r/[A-Za-z0-9]{12}$") {
            set req.http.x-lg-link = "1";
        } elsif (req.url ~ "^/v/[A-Za-z0-9]{12}$") {
            set req.http.x-lg-beacon = "1";
            set req.url = "/v.gif";
        # linkgen's own bookkeeping (the manifest's copy) is never a visitor's.
        } elsif (req.url ~ "(?i)^/+(_|%5f)linkgen(/|$)") {
            set req.http.x-lg-missing = "1";
            set req.url = "/404.html";
        } elsif (req.url ~ "^/[^/]+/+$" || (req.url ~ "[A-Z]" && req.url !~ "^/_m/")) {
            # One address per page: /Ada and /ada/ are /ada.
            set req.http.x-lg-location = std.tolower(regsub(req.url, "/+$", ""));
            error 601 "Moved Permanently";
        } elsif (req.url == "/") {
            set req.url = "/index.html";
        }
        set req.url = "@PREFIX@" + req.url;
    }
    return(lookup);
}

sub vcl_fetch {
#FASTLY fetch
    if (beresp.http.x-amz-meta-surrogate-key) {
        set beresp.http.Surrogate-Key = beresp.http.x-amz-meta-surrogate-key;
    }
    if (beresp.http.Content-Type ~ "^(text/|application/(xml|json|javascript)|image/svg\+xml)") {
        set beresp.gzip = true;
    }
    if (beresp.status == 403 || beresp.status == 404) {
        # Kept briefly, so a scan of one path does not reach the bucket each time, and
        # tagged "site": the publish that creates a page changes the sitemap, whose
        # purge drops it.
        set beresp.cacheable = true;
        set beresp.ttl = 30s;
        set beresp.http.Surrogate-Key = "site all";
        return(deliver);
    }
    if (beresp.status >= 400) {
        set beresp.ttl = 0s;
        return(pass);
    }
    return(deliver);
}

sub vcl_deliver {
#FASTLY deliver
    if ((resp.status == 403 || resp.status == 404) && !req.http.x-lg-missing) {
        # Nothing of the bucket's answer (S3's XML names the bucket) goes out.
        set req.http.x-lg-missing = "1";
        set req.url = "@PREFIX@/404.html";
        restart;
    }
    if (req.http.x-lg-missing) {
        set resp.status = 404;
        set resp.response = "Not Found";
        set resp.http.Cache-Control = "public, max-age=30";
    }
    if (req.http.x-lg-link && resp.status == 200 && resp.http.x-amz-meta-location) {
        set resp.status = 302;
        set resp.response = "Found";
        set resp.http.Location = resp.http.x-amz-meta-location;
        set resp.http.Cache-Control = "no-store, private";
    }
    if (req.http.x-lg-beacon) {
        set resp.http.Cache-Control = "no-store, private";
    }
    unset resp.http.x-amz-meta-location;
    # Fastly's own lifetime stays here: downstream gets the max-age alone.
    if (resp.http.Cache-Control ~ "s-maxage") {
        set resp.http.Cache-Control = regsuball(resp.http.Cache-Control, ",\s*s-maxage=\d+", "");
    }
    unset resp.http.Surrogate-Key;
    unset resp.http.Surrogate-Control;
    unset resp.http.x-amz-meta-surrogate-key;
    unset resp.http.x-amz-meta-surrogate-control;
    unset resp.http.x-amz-request-id;
    unset resp.http.x-amz-id-2;
    unset resp.http.x-amz-version-id;
    unset resp.http.x-amz-server-side-encryption;
    unset resp.http.x-amz-storage-class;
    unset resp.http.x-amz-expiration;
    unset resp.http.x-amz-checksum-crc32;
    unset resp.http.x-amz-checksum-crc32c;
    unset resp.http.x-amz-checksum-sha256;
    unset resp.http.x-amzn-requestid;
    unset resp.http.Server;
    return(deliver);
}

sub vcl_error {
#FASTLY error
    if (obj.status == 601) {
        set obj.status = 301;
        set obj.response = "Moved Permanently";
        set obj.http.Location = req.http.x-lg-location;
        set obj.http.Cache-Control = "public, max-age=3600";
        synthetic {""};
        return(deliver);
    }
}

sub vcl_hit {
#FASTLY hit
}

sub vcl_miss {
#FASTLY miss
}

sub vcl_pass {
#FASTLY pass
}

sub vcl_log {
#FASTLY log
}
