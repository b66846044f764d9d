// linkgen edge for Cloudflare: a Worker (module syntax) on the site's route, in front
// of the bucket bound to the same hostname (an R2 custom domain). Print it with
// `linkgen edge cloudflare`; docs/publishing.md gives the zone settings it goes with.
//
//   /<User>, /<user>/   -> 301 to /<user> (usernames are lower case)
//   /                   -> /index.html, the site's home page
//   a missing or forbidden key, /_linkgen/... -> the site's 404.html, status 404
//   /r/<link id>        -> 302 to the link's address (the object r/<link id>)
//   a page with a title test (its "ab" metadata) -> each visitor their variant's
//                          page, drawn from their address, browser and the day
//
// The bucket's answers are cached at the edge as the objects say (s-maxage: a year
// for a page, until purged by URL); visitors and downstream caches are told only
// the max-age, and nothing of the bucket's own headers goes out. Cloudflare
// compresses text for clients that accept it by itself.

// Where the objects are: "" is this hostname (the bucket bound to it), so the cache
// holds each page under its public URL and linkgen's purge by URL reaches it.
const ORIGIN = "@ORIGIN@";
const PREFIX = "@PREFIX@"; // the key prefix of [publish] target, e.g. "/links"
const NOT_FOUND_TTL = 30; // seconds a missing key's answer is kept

export default {
    async fetch(request) {
        if (request.method !== "GET" && request.method !== "HEAD") {
            return new Response("Method not allowed", { status: 405, headers: { allow: "GET, HEAD" } });
        }
        const url = new URL(request.url);
        let path = url.pathname;
        // linkgen's own bookkeeping (the manifest's copy) is never a visitor's.
        if (/^\/+(_|%5f)linkgen(\/|$)/i.test(path)) {
            return notFound(request, url);
        }
        // Links the edge answers ([redirector] mode = "edge"), and the view beacon.
        const link = /^\/r\/[A-Za-z0-9]{12}$/.test(path);
        const beacon = /^\/v\/[A-Za-z0-9]{12}$/.test(path);
        if (link || beacon) {
            const answer = await fromBucket(request, url, beacon ? "/v.gif" : path);
            if (answer.status !== 200) {
                return notFound(request, url);
            }
            const visitor = { "cache-control": "no-store, private" };
            if (beacon) {
                return new Response(answer.body, { headers: { ...visitor, "content-type": "image/gif" } });
            }
            // The object holds the address (in its metadata, and as its body).
            const location = answer.headers.get("x-amz-meta-location") || (await answer.text()).trim();
            return new Response(null, { status: 302, headers: { ...visitor, location } });
        }
        // One address per page: /Ada and /ada/ are /ada.
        if (/^\/[^\/]+\/+$/.test(path) || (/[A-Z]/.test(path) && !path.startsWith("/_m/"))) {
            const location = path.replace(/\/+$/, "").toLowerCase();
            return new Response(null, {
                status: 301,
                headers: { location, "cache-control": "public, max-age=3600" },
            });
        }
        if (path === "/") {
            path = "/index.html";
        }
        const answer = await fromBucket(request, url, path);
        if (answer.status === 403 || answer.status === 404) {
            return notFound(request, url);
        }
        const draw = answer.headers.get("x-amz-meta-ab") || "";
        if (answer.status === 200 && DRAW.test(draw)) {
            return titleTest(request, url, answer, draw);
        }
        return forVisitor(answer, answer.status);
    },
};

// A title test: "<profile id> a:<bound> b:<bound> …" (cumulative weights).
const DRAW = /^[A-Za-z0-9]{12}( [a-e]:[0-9]{1,5}){2,5}$/;

async function titleTest(request, url, page, draw) {
    // The same visitor (address and browser) sees the same variant all day.
    const day = Math.floor(Date.now() / 86400000);
    const who = [request.headers.get("cf-connecting-ip") || "", request.headers.get("user-agent") || "", day, draw];
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(who.join(" ")));
    const parts = draw.split(" ");
    const total = Number(parts[parts.length - 1].split(":")[1]);
    const point = new DataView(digest).getUint32(0) % total;
    const label = parts.slice(1).find((part) => point < Number(part.split(":")[1])).split(":")[0];
    let shown = page;
    if (label !== "a") {
        const variant = await fromBucket(request, url, `/_t/${parts[0]}/${label}`);
        shown = variant.status === 200 ? variant : page; // not there (yet): the page itself
    }
    const visitor = forVisitor(shown, 200);
    visitor.headers.set("cache-control", "private, max-age=60"); // one visitor's variant
    return visitor;
}

function fromBucket(request, url, path) {
    return fetch((ORIGIN || url.origin) + PREFIX + path, {
        method: request.method,
        cf: { cacheEverything: true, cacheTtlByStatus: { "403-404": NOT_FOUND_TTL } },
    });
}

async function notFound(request, url) {
    const page = await fromBucket(request, url, "/404.html");
    if (page.status !== 200) {
        // no 404.html published yet
        return new Response("Page not found\n", {
            status: 404,
            headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "public, max-age=30" },
        });
    }
    const answer = forVisitor(page, 404);
    answer.headers.set("cache-control", "public, max-age=30");
    return answer;
}

function forVisitor(answer, status) {
    const visitor = new Response(answer.body, { status, headers: answer.headers });
    for (const name of [...visitor.headers.keys()]) {
        if (/^(x-amz|x-goog-|server$)/i.test(name)) {
            visitor.headers.delete(name);
        }
    }
    const cache = visitor.headers.get("cache-control");
    if (cache && cache.includes("s-maxage")) {
        visitor.headers.set("cache-control", cache.replace(/,\s*s-maxage=\d+/g, ""));
    }
    return visitor;
}
