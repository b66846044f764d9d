// Serves a Cloudflare Worker (module syntax) on loopback with Node's own fetch,
// Request and Response: `node worker_server.mjs WORKER.js` prints the port it
// listens on, then answers until stdin closes. Cloudflare's `cf` fetch options
// (its cache) are ignored here: what is tested is the Worker's own logic.
import http from "node:http";
import { pathToFileURL } from "node:url";

// Workers have Web Crypto as a global; an older Node keeps it in node:crypto.
globalThis.crypto ??= (await import("node:crypto")).webcrypto;
const worker = (await import(pathToFileURL(process.argv[2]).href)).default;

const server = http.createServer(async (incoming, outgoing) => {
    try {
        const request = new Request(`http://${incoming.headers.host}${incoming.url}`, {
            method: incoming.method,
            headers: incoming.headers,
        });
        const answer = await worker.fetch(request, {}, {});
        const headers = {};
        for (const [name, value] of answer.headers) {
            headers[name] = value;
        }
        delete headers["content-encoding"]; // Node's fetch has decoded the body
        delete headers["content-length"];
        outgoing.writeHead(answer.status, headers);
        outgoing.end(Buffer.from(await answer.arrayBuffer()));
    } catch (error) {
        outgoing.writeHead(599, { "content-type": "text/plain" });
        outgoing.end(String(error && error.stack));
    }
});
server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${server.address().port}\n`);
});
process.stdin.on("end", () => server.close(() => process.exit(0)));
process.stdin.resume();
