// Node.js flags each daemon runs with, for the scripts that start them (the shebangs, package.json and
// the Dockerfiles say the same). The producer's larger young generation: at full speed it makes many
// short-lived objects, and with the default it spends a quarter of its time collecting them. The
// consumer's smaller one (4 MB): it keeps its resident memory at full speed about 220 MB (265 with
// the default 16 MB, 236-242 with 8) at no measurable cost in speed (docs/benchmarks.md).
export const DAEMON_NODE_FLAGS = {
  producer: ['--max-semi-space-size=64'],
  consumer: ['--max-semi-space-size=4'],
};
