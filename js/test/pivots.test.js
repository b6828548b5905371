// Issues 24 and 25 through jco: a client assertion the host makes (the
// component never holds a key), check, the hint in a service error, and the
// other lookups (file, user, ip, machine, the prevalences) with their
// requests, answers and refusals.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AssertionRefused, connector } from '../host.js';

const recorded = JSON.parse(readFileSync(new URL('./recorded.json', import.meta.url), 'utf8'));
// The replay corpus's files hold one answer each.
const replay = (name) =>
  JSON.parse(
    readFileSync(new URL(`../../python/tests/replays/pivots/${name}`, import.meta.url), 'utf8'),
  )[0];

const TENANT_ID = '8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b';
const TOKEN_URL = `https://login.microsoftonline.com/${TENANT_ID}/oauth2/v2.0/token`;
const API = 'https://api.security.microsoft.com/api';
const SHA1 = '4388963aaa83afe2042a46a3c0e2a9af5b5d4f0d';
const bearer = { cloud: { tag: 'commercial' }, auth: { tag: 'bearer-token', val: 'recorded-bearer' } };
const assertionSettings = {
  cloud: { tag: 'commercial' },
  auth: { tag: 'client-assertion', val: { tenantId: TENANT_ID, clientId: 'recorded-client' } },
};
const ASSERTION = 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ0In0.c2lnbmF0dXJl-recorded-assertion';

function errorOf(fn) {
  try {
    fn();
  } catch (e) {
    assert.equal(e.constructor.name, 'ComponentError', `expected a ComponentError, got ${e}`);
    return e.payload;
  }
  assert.fail('expected the call to fail');
}

const urls = (requests) => requests.map((r) => r.url);

test('client assertion: the host makes it for the token URL; the component sends it, never a secret', async () => {
  const { exports, requests, assertions } = await connector({
    settings: assertionSettings,
    answers: [recorded.token, recorded.contoso],
    clientAssertion: () => ASSERTION,
  });
  assert.equal(exports.domainMachines('contoso.com').length, 3);
  assert.deepEqual(assertions, [TOKEN_URL]);
  const form = new URLSearchParams(requests[0].body);
  assert.equal(form.get('client_assertion'), ASSERTION);
  assert.equal(
    form.get('client_assertion_type'),
    'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  );
  assert.equal(form.get('client_secret'), null);
});

test('client assertion refused by the host: invalid-settings, nothing sent', async () => {
  const { exports, requests } = await connector({
    settings: assertionSettings,
    answers: [recorded.token],
    clientAssertion: () => {
      throw new AssertionRefused('the certificate file app.pem could not be read');
    },
  });
  const error = errorOf(() => exports.domainMachines('contoso.com'));
  assert.equal(error.tag, 'invalid-settings');
  assert.match(error.val, /app\.pem could not be read/);
  assert.deepEqual(requests, []);
});

test('a 403 carries a hint naming the role to grant', async () => {
  const { exports } = await connector({ settings: bearer, answers: [replay('stats-403.json')] });
  const error = errorOf(() => exports.domainStats('contoso.com', undefined));
  assert.equal(error.tag, 'forbidden');
  assert.match(error.val.hint, /URL\.Read\.All/);
});

test('check: the token is decoded, never returned, and each lookup says if it is permitted', async () => {
  const claims = { tid: TENANT_ID, appid: 'recorded-client', roles: ['Machine.Read.All'], exp: 1900000000 };
  const jwt = `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
  const token = { ...recorded.token, body: JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: jwt }) };
  const { exports, requests } = await connector({
    settings: assertionSettings,
    answers: [token],
    clientAssertion: () => ASSERTION,
  });
  const report = exports.check();
  assert.equal(report.tenantId, TENANT_ID);
  assert.deepEqual(report.roles, ['Machine.Read.All']);
  const permitted = Object.fromEntries(report.lookups.map((l) => [l.lookup, l.permitted]));
  assert.equal(permitted['domain-machines'], true);
  assert.equal(permitted['domain-stats'], false);
  assert.ok(!JSON.stringify(report, (_, v) => (typeof v === 'bigint' ? String(v) : v)).includes(jwt));
  assert.equal(requests.length, 1, 'check sends no API request');
});

test('file, user, ip and machine: their requests and answers', async () => {
  const { exports, requests } = await connector({
    settings: bearer,
    answers: [
      replay('machines-200.json'),
      replay('machines-empty.json'),
      replay('machines-200.json'),
      replay('machine-200.json'),
      replay('machine-404.json'),
    ],
  });
  const files = exports.fileMachines(SHA1.toUpperCase());
  assert.equal(files[0].computerDnsName, 'mymachine1.contoso.com');
  assert.deepEqual(exports.userMachines('user1'), []);
  const found = exports.lookupQueryTexts({
    tag: 'ip',
    val: { ip: 'FE80:0::1', at: '2026-12-01T10:00:00+01:00' },
  });
  assert.deepEqual(found.query, { tag: 'ip', val: { ip: 'fe80::1', at: '2026-12-01T09:00:00Z' } });
  assert.equal(found.machines.length, 1);
  assert.equal(exports.machine('1e5bc9d7e413ddd7902c2932e418702b84d0cc07').rbacGroupName, 'The-A-Team');
  assert.equal(exports.machine('x'), undefined);
  assert.deepEqual(urls(requests), [
    `${API}/files/${SHA1}/machines`,
    `${API}/users/user1/machines`,
    `${API}/machines/findbyip(ip='fe80::1',timestamp=2026-12-01T09:00:00Z)`,
    `${API}/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07`,
    `${API}/machines/x`,
  ]);
  // The events of any machine list keep the query.
  const [event] = exports.events.queryOcsfInventory(found, 1800000000000n);
  assert.equal(JSON.parse(event).unmapped.queriedIp, 'fe80::1');
});

test('prevalence: either name, the window in the query, unknown as zero', async () => {
  const { exports, requests } = await connector({
    settings: bearer,
    answers: [replay('domain-stats-200.json'), replay('ip-stats-unseen.json')],
  });
  const domain = exports.domainStats('Example.COM', 24);
  assert.equal(domain.domain, 'example.com');
  assert.equal(domain.organizationPrevalence, 4070n);
  const ip = exports.ipStats('10.0.0.9', undefined);
  assert.equal(ip.organizationPrevalence, 0n);
  assert.equal(ip.orgFirstSeen, undefined);
  assert.deepEqual(urls(requests), [
    `${API}/domains/example.com/stats?lookBackHours=24`,
    `${API}/ips/10.0.0.9/stats`,
  ]);
});

test('bad input to each lookup is refused with its own error, nothing sent', async () => {
  const { exports, requests } = await connector({ settings: bearer, answers: [] });
  const cases = [
    [() => exports.fileMachines('d41d8cd98f00b204e9800998ecf8427e'), 'invalid-file-hash'],
    [() => exports.userMachines('user1@contoso.com'), 'invalid-user-name'],
    [() => exports.ipMachines('10.0.0.0/8', '2026-12-01T00:00:00Z'), 'invalid-ip'],
    [() => exports.ipMachines('10.0.0.1', 'yesterday'), 'invalid-time'],
    [() => exports.machine('a/../b'), 'invalid-machine-id'],
    [() => exports.domainStats('contoso.com', 0), 'invalid-look-back'],
  ];
  for (const [call, tag] of cases) {
    assert.equal(errorOf(call).tag, tag);
  }
  assert.deepEqual(requests, []);
});
