// The core behaviours of the component, run in Node through jco, with the
// host's imports written in JavaScript and answers recorded from the service's
// shapes (test/recorded.json, in the `host-test --replay` format).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connector, header, isComponentError, Recovering, TransportFailure } from '../host.js';

const recorded = JSON.parse(readFileSync(new URL('./recorded.json', import.meta.url), 'utf8'));

const TENANT_ID = '8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b';
const TOKEN_URL = `https://login.microsoftonline.com/${TENANT_ID}/oauth2/v2.0/token`;
const machinesUrl = (domain) => `https://api.security.microsoft.com/api/domains/${domain}/machines`;

const clientCredentials = {
  cloud: { tag: 'commercial' },
  auth: {
    tag: 'client-credentials',
    val: { tenantId: TENANT_ID, clientId: 'recorded-client', clientSecret: 'recorded-secret' },
  },
};
const bearer = { cloud: { tag: 'commercial' }, auth: { tag: 'bearer-token', val: 'recorded-bearer' } };

/** Each request as method, URL and Authorization header. */
const sent = (requests) => requests.map((r) => [r.method, r.url, header(r, 'authorization')]);

/** Calls `fn` and returns the `err` value the export threw (jco's ComponentError payload). */
function errorOf(fn) {
  try {
    fn();
  } catch (e) {
    assert.equal(e.constructor.name, 'ComponentError', `expected a ComponentError, got ${e}`);
    return e.payload;
  }
  assert.fail('expected the call to fail');
}

test('machines found: a token, then the lookup with it', async () => {
  const { exports, requests, logs } = await connector({
    settings: clientCredentials,
    answers: [recorded.token, recorded.contoso],
  });
  const machines = exports.domainMachines('contoso.com');

  assert.equal(machines.length, 3);
  const [ws, linux, mac] = machines;
  assert.equal(ws.id, '9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01');
  assert.equal(ws.computerDnsName, 'ws-0142.corp.contoso.com');
  assert.equal(ws.osBuild, 22631n);
  assert.deepEqual(ws.healthStatus, { tag: 'active' });
  assert.deepEqual(ws.riskScore, { tag: 'medium' });
  assert.equal(ws.rbacGroupId, '0');
  assert.equal(ws.rbacGroupName, undefined);
  assert.deepEqual(ws.machineTags, ['finance', 'vip']);
  assert.equal(ws.ipAddresses[1].macAddress, undefined);
  assert.equal(ws.ipAddresses[1].type, 'SoftwareLoopback');
  assert.equal(linux.osBuild, undefined);
  assert.equal(linux.vmMetadata.cloudProvider, 'Azure');
  assert.deepEqual(mac.healthStatus, { tag: 'other', val: 'Maintenance' });
  assert.equal(mac.isPotentialDuplication, true);

  assert.deepEqual(sent(requests), [
    ['post', TOKEN_URL, undefined],
    ['get', machinesUrl('contoso.com'), 'Bearer recorded-access-token'],
  ]);
  const [token, get] = requests;
  assert.equal(header(token, 'content-type'), 'application/x-www-form-urlencoded');
  assert.equal(
    token.body,
    'grant_type=client_credentials&client_id=recorded-client&client_secret=recorded-secret' +
      '&scope=https%3A%2F%2Fapi.securitycenter.microsoft.com%2F.default',
  );
  assert.equal(header(get, 'accept'), 'application/json');
  assert.equal(get.body, undefined);
  assert.deepEqual(
    logs.map((r) => [r.level, r.event]),
    [
      ['debug', 'request'],
      ['info', 'token-acquired'],
      ['debug', 'request'],
    ],
  );
  assert.ok(!logs.some((r) => r.message.includes('recorded-secret')), 'no log carries the secret');
});

test('an answer body as bytes reads as the same body as text', async () => {
  const asBytes = (answer) => ({
    status: answer.status,
    headers: Object.entries(answer.headers ?? {}),
    body: { tag: 'bytes', val: new TextEncoder().encode(answer.body) },
  });
  const { exports } = await connector({
    settings: bearer,
    imports: { 'mde:connector/http': { send: () => asBytes(recorded.contoso) } },
  });
  const { exports: text } = await connector({ settings: bearer, answers: [recorded.contoso] });
  assert.deepEqual(exports.domainMachines('contoso.com'), text.domainMachines('contoso.com'));
  assert.equal(exports.domainMachines('contoso.com').length, 3);
});

test('lookup normalises the domain and reports the cap', async () => {
  const { exports, requests } = await connector({ settings: bearer, answers: [recorded.contoso] });
  const found = exports.lookup('  Contoso.COM. ');
  assert.equal(found.domain, 'contoso.com');
  assert.equal(found.machines.length, 3);
  assert.equal(found.capReached, false);
  assert.deepEqual(sent(requests), [['get', machinesUrl('contoso.com'), 'Bearer recorded-bearer']]);
});

test('unknown domain: no machines', async () => {
  const { exports, requests } = await connector({ settings: bearer, answers: [recorded.none] });
  assert.deepEqual(exports.domainMachines('unknown.example'), []);
  assert.deepEqual(sent(requests), [['get', machinesUrl('unknown.example'), 'Bearer recorded-bearer']]);
});

test('invalid domain: refused with the reason, nothing sent', async () => {
  const { exports, requests } = await connector({ settings: bearer, answers: [recorded.contoso] });
  for (const domain of ['https://contoso.com/x', 'contoso.com/../x', 'a..b', '']) {
    const error = errorOf(() => exports.domainMachines(domain));
    assert.equal(error.tag, 'invalid-domain', `${domain}: ${JSON.stringify(error)}`);
    assert.equal(typeof error.val, 'string');
    assert.ok(error.val.length > 0);
  }
  assert.deepEqual(requests, []);
});

test('rate limited: Retry-After and the service error', async () => {
  const { exports, requests } = await connector({ settings: bearer, answers: [recorded['rate-limited']] });
  assert.deepEqual(errorOf(() => exports.domainMachines('contoso.com')), {
    tag: 'rate-limited',
    val: {
      retryAfterSeconds: 37n,
      details: {
        service: 'api',
        status: 429,
        code: 'TooManyRequests',
        message: 'Rate limit is exceeded. Try again later.',
        correlationId: '4c1b2a3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
        hint: undefined,
      },
    },
  });
  assert.deepEqual(sent(requests), [['get', machinesUrl('contoso.com'), 'Bearer recorded-bearer']]);
});

test("error envelope: the service's code, message and correlation id", async () => {
  const { exports, requests } = await connector({
    settings: bearer,
    answers: [recorded['invalid-domain-name']],
  });
  assert.deepEqual(errorOf(() => exports.domainMachines('localhost')), {
    tag: 'api-error',
    val: {
      service: 'api',
      status: 400,
      code: 'InvalidDomainName',
      message: 'Domain name localhost is invalid',
      correlationId: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b',
      hint: undefined,
    },
  });
  assert.deepEqual(sent(requests), [['get', machinesUrl('localhost'), 'Bearer recorded-bearer']]);
});

test("a transport error thrown by the host comes back as the component's error", async () => {
  const { exports, requests } = await connector({
    settings: bearer,
    answers: [new TransportFailure({ tag: 'refused', val: 'not on the allow-list' })],
  });
  assert.deepEqual(errorOf(() => exports.domainMachines('contoso.com')), {
    tag: 'transport',
    val: { tag: 'refused', val: 'not on the allow-list' },
  });
  assert.equal(requests.length, 1);
});

test('host-managed authentication: no Authorization header from the component', async () => {
  const { exports, requests } = await connector({
    settings: { cloud: { tag: 'geo', val: 'eu' }, auth: { tag: 'host-managed' } },
    answers: [recorded.none],
  });
  assert.deepEqual(exports.domainMachines('contoso.com'), []);
  assert.deepEqual(sent(requests), [
    ['get', 'https://eu.api.security.microsoft.com/api/domains/contoso.com/machines', undefined],
  ]);
});

/** 2026-11-28T10:15:02.345Z, as the events' `observed-at` (milliseconds, a u64). */
const OBSERVED_AT = 1795860902345n;

test('events: one lookup, then the machines as JSON, OCSF and ECS without another request', async () => {
  const { exports, requests } = await connector({ settings: bearer, answers: [recorded.contoso] });
  const found = exports.lookupTexts('contoso.com');
  const json = found.machines.map((text) => JSON.parse(text));
  const ocsf = exports.events.ocsfInventory(found, OBSERVED_AT).map((text) => JSON.parse(text));
  const ecs = exports.events.ecsDocuments(found, OBSERVED_AT).map((text) => JSON.parse(text));
  assert.equal(requests.length, 1, 'the events come from the lookup, not from another call');

  assert.deepEqual([json.length, ocsf.length, ecs.length], [3, 3, 3]);
  // The service's own names; members the contract does not model come back as sent.
  assert.equal(json[0].computerDnsName, 'ws-0142.corp.contoso.com');
  assert.equal(json[1].lastSeenByPortal, '2026-11-28T09:12:00Z');

  assert.equal(ocsf[0].class_uid, 5001);
  assert.equal(ocsf[0].time, 1795860902345);
  assert.equal(ocsf[0].time_dt, '2026-11-28T10:15:02.345Z');
  assert.equal(ocsf[0].device.uid, '9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01');
  assert.equal(ocsf[0].device.agent_list[0].uid, '9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01');
  assert.equal(ocsf[1].unmapped.lastSeenByPortal, '2026-11-28T09:12:00Z');
  assert.equal(ocsf[1].unmapped.queriedDomain, 'contoso.com');

  assert.equal(ecs[0]['@timestamp'], '2026-11-28T10:15:02.345Z');
  assert.equal(ecs[0].agent.id, '9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01');
  assert.equal(ecs[0].host.os.type, 'windows');
  assert.equal(ecs[1].mde.lastSeenByPortal, '2026-11-28T09:12:00Z');
  assert.equal(ecs[1].cloud.provider, 'Azure');
});

test('events: a text that is not a machine is the err string, naming it', async () => {
  const { exports } = await connector({ settings: bearer, answers: [recorded.contoso] });
  const found = exports.lookupTexts('contoso.com');
  const notAMachine = { ...found, machines: [found.machines[0], '{"osBuild": 1}'] };
  assert.equal(errorOf(() => exports.events.ocsfInventory(notAMachine, OBSERVED_AT)), 'machine text 1: no id');
  assert.equal(errorOf(() => exports.events.ecsDocuments(notAMachine, OBSERVED_AT)), 'machine text 1: no id');
});

test('events: an observed-at RFC 3339 cannot write is the err string', async () => {
  const { exports } = await connector({ settings: bearer, answers: [recorded.contoso] });
  const found = exports.lookupTexts('contoso.com');
  for (const map of [exports.events.ocsfInventory, exports.events.ecsDocuments]) {
    const error = errorOf(() => map(found, 18446744073709551615n));
    assert.equal(typeof error, 'string');
    assert.match(error, /RFC 3339/);
  }
  // The last millisecond it can write still maps.
  assert.equal(exports.events.ocsfInventory(found, 253402300799999n).length, 3);
});

test('a kept token the API refuses is fetched again once; a fresh one refused is dropped', async () => {
  const refused = {
    status: 401,
    body: '{"error":{"code":"Unauthorized","message":"Access token has expired.","target":"c-1"}}',
  };
  const token = (name) => ({ status: 200, body: JSON.stringify({ access_token: name }) });
  const { exports, requests, logs } = await connector({
    settings: clientCredentials,
    answers: [
      token('token-A'), recorded.none,
      refused, token('token-B'), recorded.contoso,
      refused, token('token-C'), refused,
      token('token-D'), recorded.none,
    ],
  });
  assert.deepEqual(exports.domainMachines('contoso.com'), []);
  assert.equal(exports.domainMachines('contoso.com').length, 3, 'repeated with a fresh token');
  assert.ok(logs.some((r) => r.level === 'info' && r.event === 'token-refresh'));
  const error = errorOf(() => exports.domainMachines('contoso.com'));
  assert.equal(error.tag, 'unauthorized');
  assert.equal(error.val.code, 'Unauthorized');
  assert.deepEqual(exports.domainMachines('contoso.com'), []);
  assert.deepEqual(sent(requests), [
    ['post', TOKEN_URL, undefined],
    ['get', machinesUrl('contoso.com'), 'Bearer token-A'],
    ['get', machinesUrl('contoso.com'), 'Bearer token-A'],
    ['post', TOKEN_URL, undefined],
    ['get', machinesUrl('contoso.com'), 'Bearer token-B'],
    ['get', machinesUrl('contoso.com'), 'Bearer token-B'],
    ['post', TOKEN_URL, undefined],
    ['get', machinesUrl('contoso.com'), 'Bearer token-C'],
    // Token C was refused: the next call starts with a token request.
    ['post', TOKEN_URL, undefined],
    ['get', machinesUrl('contoso.com'), 'Bearer token-D'],
  ]);
});

test('service unavailable keeps Retry-After', async () => {
  const { exports } = await connector({
    settings: bearer,
    answers: [{ status: 503, headers: { 'Retry-After': '120' }, body: '' }],
  });
  const error = errorOf(() => exports.domainMachines('contoso.com'));
  assert.equal(error.tag, 'service-unavailable');
  assert.equal(error.val.retryAfterSeconds, 120n);
  assert.equal(error.val.details.status, 503);
});

test('an import that throws poisons the instance; a new instance recovers', async () => {
  const boom = () => {
    throw new Error('the host failed');
  };
  // The host's own exception comes back out of the call, not a ComponentError:
  // it unwound through the guest without letting it clean up.
  const settingsFail = await connector({
    settings: bearer,
    imports: { 'mde:connector/settings': { get: boom, clientAssertion: boom } },
  });
  assert.throws(() => settingsFail.exports.domainMachines('contoso.com'), /the host failed/);
  // Thrown while the component held its state (sending, logging), it leaves
  // the instance poisoned: the next call traps before any request.
  for (const failing of [
    { answers: [boom, recorded.none] },
    { answers: [recorded.none], imports: { 'mde:connector/log': { emit: boom } } },
  ]) {
    const { exports, requests } = await connector({ settings: bearer, ...failing });
    assert.throws(() => exports.domainMachines('contoso.com'), /the host failed/);
    const sentBefore = requests.length;
    assert.throws(
      () => exports.domainMachines('contoso.com'),
      (e) => e instanceof WebAssembly.RuntimeError && /unreachable|cannot enter/.test(String(e)),
    );
    assert.equal(requests.length, sentBefore);
  }

  // Recovering makes a new instance after such a failure; the queue goes on.
  const answers = [boom, recorded.contoso];
  const host = await Recovering.create(() => connector({ settings: bearer, answers }));
  await assert.rejects(host.call((e) => e.domainMachines('contoso.com')), /the host failed/);
  assert.equal((await host.call((e) => e.domainMachines('contoso.com'))).length, 3);
  // The component's own errors leave the instance as it is.
  const first = host.current;
  await assert.rejects(host.call((e) => e.domainMachines('not a domain')), (e) => isComponentError(e));
  assert.equal(host.current, first);
});
