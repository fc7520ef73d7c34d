// The reference JSONata (npm `jsonata`, the JavaScript implementation): evaluates each
// {expression, bindings} read as JSON from stdin; prints [{value} | {error}] as JSON.
const jsonata = require("jsonata");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  const results = [];
  for (const { expression, bindings } of JSON.parse(input)) {
    try {
      const value = await jsonata(expression).evaluate(null, bindings);
      results.push({ value: value === undefined ? null : value, undefined: value === undefined });
    } catch (err) {
      results.push({ error: err.code || String(err) });
    }
  }
  process.stdout.write(JSON.stringify(results));
});
