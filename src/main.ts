import { run } from './setup.js';

await run();
// open sockets (keep-alive agents) must not keep the step alive
process.exit();
