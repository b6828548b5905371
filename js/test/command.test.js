// The command component (`wasi:cli/run`) under `jco run`: an error prints its
// one line, whatever the exit status (issue 27).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const target = process.env.CARGO_TARGET_DIR ?? fileURLToPath(new URL('../../target', import.meta.url));
const command = `${target}/component/mde_connector_command.component.wasm`;
const jco = fileURLToPath(new URL('../node_modules/.bin/jco', import.meta.url));

/** An origin on 127.0.0.1 where nothing listens. */
async function closedOrigin() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

test('jco run: an error that exits 1 prints only its error line', async () => {
  const origin = await closedOrigin();
  const run = spawnSync(jco, ['run', command, 'contoso.com'], {
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      ...process.env,
      MDE_CLOUD: 'custom',
      MDE_API_BASE: origin,
      MDE_LOGIN_HOST: origin,
      MDE_SCOPE: 'https://api.securitycenter.microsoft.com/.default',
      MDE_TOKEN: 'a-token-nobody-answers',
    },
  });
  assert.equal(run.stdout, '');
  assert.equal(run.stderr, 'error: transport: connection failed: connection-refused\n');
  assert.equal(run.status, 1);
});
