// A separate process applying and restoring through the SDK on a shared HOME,
// driven over IPC by test/config/concurrency.test.ts: each message is a list of
// operations to run now, one after the other; the reply says how each ended.
import { applyMirror, findMirror, restoreMirror } from '../../packages/sdk/dist/index.js';

process.on('message', async ({ ops, paths, stateDir, lock }) => {
  process.env.TUNA_SETUP_LOCK = lock ?? ''; // 'file': the lock-file fallback instead of flock
  const results = [];
  for (const op of ops) {
    try {
      if (op.kind === 'apply') {
        await applyMirror({ mirror: findMirror(op.mirror), targets: ['pip', 'uv', 'conda'], paths, stateDir, session: op.session });
      } else {
        await restoreMirror(stateDir, { session: op.session });
      }
      results.push({ ...op, ok: true });
    } catch (e) {
      results.push({ ...op, ok: false, code: e?.code ?? 'INTERNAL', message: String(e?.stack ?? e) });
    }
  }
  process.send({ results });
});
