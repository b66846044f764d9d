// Runs a CloudFront Function (cloudfront-js-2.0 style: a top-level `handler`) on
// events read as JSON from stdin, in a fresh context each, and prints the results.
//   node cloudfront_functions.js FUNCTION.js < events.json
"use strict";
const fs = require("fs");
const vm = require("vm");

const code = fs.readFileSync(process.argv[2], "utf8");
const events = JSON.parse(fs.readFileSync(0, "utf8"));
const results = events.map((event) => {
    const context = vm.createContext({});
    vm.runInContext(code, context, { filename: process.argv[2] });
    return context.handler(event);
});
process.stdout.write(JSON.stringify(results));
