// The protocol floor for HTTP: a bare node:http server that reads the request body and answers
// a fixed small KServe-v2-like JSON (about the size of infera's answer for the trivial model).
// Usage: node bench/peers/http-bare.mjs [port]   (prints "listening on <port>")
import http from 'node:http';

const answer = Buffer.from(
  JSON.stringify({
    model_name: 'simple',
    model_version: '1',
    outputs: [{ name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16], data: Array(16).fill(2) }],
  }),
);

const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.byteLength });
    res.end(answer);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
