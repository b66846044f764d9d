# linkgen edge for Varnish + varnish-modules (xkey), in front of an S3 origin.
# Print it filled in for your site with `linkgen edge vcl`.
#
#   /<username>          -> <origin>/<bucket path>/<username>   (cached until purged)
#   /<User>, /<user>/    -> 301 to /<user>
#   a profile's own domain: its root is the page, its other paths the site's files
#   (images, players, the contact card); /<username> elsewhere -> 301 to that domain
#   /r/<link id>         -> 302 to the link's address (the object r/<link id>)
#   /v/<profile id>      -> the view beacon (v.gif), never cached by the visitor
#   a page with a title test (its "ab" metadata) -> each visitor their variant's
#                           page, drawn from their address, browser and the day
#   a missing or forbidden key, /_linkgen/... -> the site's 404.html, status 404
#   PURGE with "xkey: p-<profile id> ..." from an allowed address -> xkey.purge()
#
# Objects are tagged from the x-amz-meta-surrogate-key metadata linkgen stores
# on every object, so purging a profile's key drops exactly its pages. The edge
# keeps an object for its s-maxage (a year, until purged); downstream caches and
# browsers are told only the max-age (a minute for a page). Text is compressed
# for clients that accept gzip.
vcl 4.1;

import directors;
import std;
import var;
import xkey;

backend origin {
    .host = "@ORIGIN_HOST@";
    .port = "@ORIGIN_PORT@";
}

sub vcl_init {
    new ab = directors.shard();  # only its key(): a string's SHA-256, as an integer
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
        # Remembered, so that a fetch already under way, which may carry the
        # page this purge dropped, is not kept (see vcl_backend_response).
        var.global_set("purged_at", "" + std.real(time=now));
        return (synth(200, "Purged " + req.http.n-gone + " objects"));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (synth(405, "Method not allowed"));
    }
    unset req.http.Cookie;
    unset req.http.Authorization;
    if (req.restarts == 0) {
        unset req.http.x-lg-missing;  # set only here, never by a visitor
        unset req.http.x-lg-link;
        unset req.http.x-lg-beacon;
        unset req.http.x-lg-ab;
        unset req.http.x-lg-page;
        unset req.http.x-lg-label;
        if (req.url ~ "\?") {
            if (req.url ~ "^/[rv]/[A-Za-z0-9]{12}\?x=[a-e]$") {
                set req.http.x-lg-label = regsub(req.url, "^[^?]*", "");  # a page variant's
            }
            set req.url = regsub(req.url, "\?.*$", "");
        }
        # the address asked for, for the access log (with a title test's variant)
        set req.http.x-lg-path = req.url + req.http.x-lg-label;
        # Links the edge answers ([redirector] mode = "edge"): /r/<link id> is the
        # object r/<link id>, sent as a 302 to the address it holds; /v/<profile id>,
        # the view beacon, is one image for every profile. Both are in the log.
        if (req.url ~ "^/r/[A-Za-z0-9]{12}$") {
            set req.http.x-lg-link = "1";
            set req.url = "@BUCKET_PATH@" + req.url;
            return (hash);
        }
        if (req.url ~ "^/v/[A-Za-z0-9]{12}$") {
            set req.http.x-lg-beacon = "1";
            set req.url = "@BUCKET_PATH@/v.gif";
            return (hash);
        }
        # Profiles' own domains (`linkgen profile set USER --domain HOST`).
@DOMAINS@
        # linkgen's own bookkeeping (the manifest's copy) is never a visitor's.
        if (req.url ~ "(?i)^/+(_|%5f)linkgen(/|$)") {
            set req.http.x-lg-missing = "1";
            set req.url = "/404.html";
        }
        # One address per page: /Ada and /ada/ are /ada (usernames are lower case).
        if (req.url ~ "^/[^/]+/+$" || (req.url ~ "[A-Z]" && req.url !~ "^/_m/")) {
            set req.http.x-lg-location = std.tolower(regsub(req.url, "/+$", ""));
            return (synth(301, "Moved Permanently"));
        }
        if (req.url ~ "^/$") {
            set req.url = "/index.html";
        }
        set req.url = "@BUCKET_PATH@" + req.url;
    }
    return (hash);
}

sub vcl_backend_fetch {
    # The origin is asked as itself, whatever host the visitor asked (a profile's
    # own domain would read as a virtual-hosted bucket name).
    set bereq.http.host = "@ORIGIN_AUTHORITY@";
    var.set_real("fetch_started", std.real(time=now));
}

sub vcl_backend_response {
    if (beresp.http.x-amz-meta-surrogate-key) {
        set beresp.http.xkey = beresp.http.x-amz-meta-surrogate-key;
    }
    # What the origin says of itself is stripped once, when the object is
    # stored, not on every answer. The edge's own lifetime (s-maxage, already
    # read into the TTL) stays here: downstream gets the max-age alone.
    if (beresp.http.Cache-Control ~ "s-maxage") {
        set beresp.http.Cache-Control = regsuball(beresp.http.Cache-Control, ",\s*s-maxage=\d+", "");
    }
    unset beresp.http.Surrogate-Control;
    unset beresp.http.x-amz-meta-surrogate-key;
    unset beresp.http.x-amz-meta-surrogate-control;
    unset beresp.http.x-amz-request-id;
    unset beresp.http.x-amz-id-2;
    unset beresp.http.x-amz-version-id;
    unset beresp.http.x-amz-server-side-encryption;
    unset beresp.http.x-amz-storage-class;
    unset beresp.http.x-amz-expiration;
    unset beresp.http.x-amz-checksum-crc32;
    unset beresp.http.x-amz-checksum-crc32c;
    unset beresp.http.x-amz-checksum-sha256;
    unset beresp.http.x-amz-sdk-checksum-algorithm;
    unset beresp.http.x-amz-tagging-count;
    unset beresp.http.x-amz-website-redirect-location;
    unset beresp.http.x-amz-delete-marker;
    unset beresp.http.x-amz-restore;
    unset beresp.http.x-amz-replication-status;
    unset beresp.http.x-amz-mp-parts-count;
    unset beresp.http.x-amz-object-lock-mode;
    unset beresp.http.x-amz-object-lock-retain-until-date;
    unset beresp.http.x-amz-object-lock-legal-hold;
    unset beresp.http.x-amz-content-sha256;
    unset beresp.http.x-amzn-requestid;
    unset beresp.http.Server;  # the origin's software is nobody's business
    if (var.get_real("fetch_started") < std.real(var.global_get("purged_at"), 0.0)) {
        # Under way when a purge came: it may be the old page. Delivered to
        # whoever waits for it, never kept (the race of a purge and a miss).
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        set beresp.grace = 0s;
        return (deliver);
    }
    if (beresp.http.Content-Type ~ "^(text/|application/(xml|json|javascript)|image/svg\+xml)") {
        set beresp.do_gzip = true;
    }
    if (beresp.status == 403 || beresp.status == 404) {
        # Missing (or, on a private bucket, forbidden): kept briefly, so a scan of
        # one path does not reach the origin each time, and tagged "site": the
        # publish that creates a page changes the sitemap, whose purge drops it.
        set beresp.ttl = 30s;
        set beresp.grace = 0s;
        set beresp.http.xkey = "site all";
        return (deliver);
    }
    if (beresp.status >= 400) {
        set beresp.ttl = 0s;
        set beresp.grace = 0s;
        return (deliver);
    }
}

sub vcl_deliver {
    if (req.http.x-lg-page && resp.status != 200) {
        # A title test's variant not there (yet): the page itself.
        set req.url = req.http.x-lg-page;
        unset req.http.x-lg-page;
        return (restart);
    }
    if (resp.status == 200 && !req.http.x-lg-ab
        && resp.http.x-amz-meta-ab ~ "^[A-Za-z0-9]{12}( [a-e]:[0-9]{1,5}){2,5}$") {
        # A title test ("<profile id> a:<bound> b:<bound> …", cumulative weights):
        # the same visitor (address and browser) sees the same variant all day.
        set req.http.x-lg-point = "" + ab.key(client.ip + " " + req.http.User-Agent + " "
            + (std.integer(time=now) / 86400) + " " + resp.http.x-amz-meta-ab)
            % std.integer(regsub(resp.http.x-amz-meta-ab, "^.*:", ""), 1);
        set req.http.x-lg-ab = "a";
        if (std.integer(req.http.x-lg-point, 0)
            >= std.integer(regsub(resp.http.x-amz-meta-ab, "^.* a:([0-9]+).*$", "\1"), 0)) {
            set req.http.x-lg-ab = "b";
        }
        if (resp.http.x-amz-meta-ab ~ " c:" && std.integer(req.http.x-lg-point, 0)
            >= std.integer(regsub(resp.http.x-amz-meta-ab, "^.* b:([0-9]+).*$", "\1"), 0)) {
            set req.http.x-lg-ab = "c";
        }
        if (resp.http.x-amz-meta-ab ~ " d:" && std.integer(req.http.x-lg-point, 0)
            >= std.integer(regsub(resp.http.x-amz-meta-ab, "^.* c:([0-9]+).*$", "\1"), 0)) {
            set req.http.x-lg-ab = "d";
        }
        if (resp.http.x-amz-meta-ab ~ " e:" && std.integer(req.http.x-lg-point, 0)
            >= std.integer(regsub(resp.http.x-amz-meta-ab, "^.* d:([0-9]+).*$", "\1"), 0)) {
            set req.http.x-lg-ab = "e";
        }
        if (req.http.x-lg-ab != "a") {
            set req.http.x-lg-page = req.url;
            set req.url = "@BUCKET_PATH@/_t/" + regsub(resp.http.x-amz-meta-ab, " .*$", "")
                + "/" + req.http.x-lg-ab;
            return (restart);
        }
    }
    if ((resp.status == 403 || resp.status == 404) && !req.http.x-lg-missing) {
        # Nothing of the origin's answer (S3's XML names the bucket) goes out:
        # the site's own 404 page does, itself cached like any site file.
        set req.http.x-lg-missing = "1";
        set req.url = "@BUCKET_PATH@/404.html";
        return (restart);
    }
    if (req.http.x-lg-missing) {
        if (resp.status != 200) {
            return (synth(404, "Not Found"));  # no 404.html published yet
        }
        set resp.status = 404;
        set resp.reason = "Not Found";
        set resp.http.Cache-Control = "public, max-age=30";
    }
    if (req.http.x-lg-link && resp.status == 200 && resp.http.x-amz-meta-location) {
        # The object stays cached until purged; the visitor's answer is never kept.
        set resp.status = 302;
        set resp.reason = "Found";
        set resp.http.Location = resp.http.x-amz-meta-location;
        set resp.http.Cache-Control = "no-store, private";
    }
    if (req.http.x-lg-beacon) {
        set resp.http.Cache-Control = "no-store, private";
    }
    if (req.http.x-lg-ab) {
        # One visitor's variant: no shared cache downstream may hand it to another.
        set resp.http.Cache-Control = "private, max-age=60";
    }
    unset resp.http.x-amz-meta-location;
    unset resp.http.x-amz-meta-ab;
    unset resp.http.xkey;  # the surrogate keys are the edge's own
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}

sub vcl_synth {
    if (resp.status == 301 && req.http.x-lg-location) {
        set resp.http.Location = req.http.x-lg-location;
        set resp.http.Cache-Control = "public, max-age=3600";
        set resp.body = "";
        return (deliver);
    }
    if (resp.status == 404) {
        set resp.http.Content-Type = "text/html; charset=utf-8";
        set resp.http.Cache-Control = "public, max-age=30";
        set resp.body = {"<!doctype html><html lang="en"><meta charset="utf-8"><title>Page not found</title><h1>Page not found</h1></html>"};
        return (deliver);
    }
}
