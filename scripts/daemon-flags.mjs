// Node.js flags each daemon runs with, for the scripts that start them (the shebangs, package.json and
// the Dockerfiles say the same). The producer's larger young generation: at full speed it makes many
// short-lived objects, and with the default it spends a quarter of its time collecting them. The
// consumer's smaller one (4 MB): it keeps its resident memory at full speed about 220 MB on Node.js 20
// (265 with the default 16 MB, 236-242 with 8) at no measurable cost in speed. Node.js 24 takes ~50 MB
// more for the same code; a heap limit just under 2 GB (never reached) makes V8 grow the old generation
// at most twofold after a collection instead of fourfold: ~200 MB instead of 260-290, for ~10% of
// catch-up speed (docs/benchmarks.md).
export const DAEMON_NODE_FLAGS = {
  producer: ['--max-semi-space-size=64'],
  consumer: ['--max-semi-space-size=4', '--max-old-space-size=2000'],
  // The API streams exports through a small young generation too: a 100-MB peak instead of 150-190.
  api: ['--max-semi-space-size=4'],
};
