// One mirror selection in a child process of its own, through the built SDK,
// so a test can see what a user's process sees: when the answer came, when
// the process really exited (nothing may keep it alive past the budget), and
// how much memory the selection took (maxRSS). Nothing here calls
// process.exit: the process ends when its event loop is empty.
//   node select-child.mjs '{"service":"pypi","candidates":["a=http://…"],"budgetMs":1000,"allowHttp":true,
//     "status":{"a":"http://…/tunasync.json"}}'
// prints {"startedAt","answeredAt","rssGrowthMB","report"|"error"} on stdout.
import { selectMirror } from '../../packages/sdk/dist/index.js';
import { candidateFromPair } from '../../packages/sdk/dist/probe/index.js';

const opts = JSON.parse(process.argv[2]);
const rss0 = process.memoryUsage().rss;
const startedAt = Date.now();
const out = { startedAt };
try {
  const candidates = opts.candidates.map((pair) => {
    const c = candidateFromPair(opts.service, pair, { allowHttp: opts.allowHttp });
    const status = opts.status?.[c.name];
    return status ? { ...c, status: { url: status, format: 'tunasync', source: 'test', checked: '' } } : c;
  });
  out.report = await selectMirror({ service: opts.service, candidates, budgetMs: opts.budgetMs, allowHttp: opts.allowHttp });
} catch (e) {
  out.error = { name: e.name, code: e.code, message: e.message, hint: e.hint };
}
out.answeredAt = Date.now();
out.rssGrowthMB = Math.round((process.resourceUsage().maxRSS * 1024 - rss0) / 1e6);
process.stdout.write(JSON.stringify(out));
