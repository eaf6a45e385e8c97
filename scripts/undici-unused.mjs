// Stands in for `undici` inside @actions/http-client in the bundled Action.
// http-client imports undici only for HttpClient.getAgentDispatcher (a
// ProxyAgent for fetch callers); neither @actions/core nor @actions/cache
// calls it, and loading a second undici costs every step ~70 ms at start.
// Should a future toolkit call it, this fails loudly instead of silently.
export class ProxyAgent {
  constructor() {
    throw new Error('tuna-setup bundle: @actions/http-client getAgentDispatcher is not available (undici is stubbed in dist/; see scripts/build-dist.mjs)');
  }
}
