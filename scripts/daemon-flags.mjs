// Node.js flags each daemon runs with, for the scripts that start them (the shebangs, package.json and
// the Dockerfiles say the same). The producer's larger young generation: at full speed it makes many
// short-lived objects, and with the default it spends a quarter of its time collecting them.
export const DAEMON_NODE_FLAGS = {
  producer: ['--max-semi-space-size=64'],
  consumer: [],
};
