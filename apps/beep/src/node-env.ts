// Imported first by main.ts, so it runs before any library reads NODE_ENV at load time. graphql-js, for
// one, checks every `instanceof` against a second copy of itself unless NODE_ENV is "production" (about
// 1.5% of the CPU of a busy gateway). A process started by `beep` is a server: development checks are
// opted into by setting NODE_ENV explicitly.
process.env.NODE_ENV ??= "production";
