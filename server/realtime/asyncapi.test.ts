/**
 * docs/asyncapi.yaml against the code: every event of the four event maps in events.ts is an
 * operation of its namespace (and the document has no other, socket.io's reserved
 * `connect_error` aside), with the right direction, payload type and ack; every type of the
 * contract in events.ts is a schema with the same fields (required where the type requires them);
 * the event data and host push schemas are those the server validates with; the examples match
 * their payloads; every $ref resolves.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { Ajv } from 'ajv';
import { EVENT_TYPES, LIFECYCLES, TIERS } from './events.js';
import { checkEvent, EventData, EventEnvelope } from '../ingest/schema.js';
import { HostPushBody } from '../routes/schemas.js';

type Json = Record<string, any>;

const doc: Json = YAML.parse(readFileSync(new URL('../../docs/asyncapi.yaml', import.meta.url), 'utf8'));
const source = readFileSync(new URL('./events.ts', import.meta.url), 'utf8')
  .replace(/\/\*[\s\S]*?\*\//g, '')
  .replace(/\/\/[^\n]*/g, '');

// ---------------------------------------------------------------- reading events.ts

/** the text from `open` (an index of `{` or `(`) to its matching close, exclusive of both */
function enclosed(text: string, open: number): string {
  const pairs: Record<string, string> = { '{': '}', '(': ')', '[': ']', '<': '>' };
  const stack: string[] = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '=' && text[i + 1] === '>') {
      i++; // an arrow, not a closing angle bracket
      continue;
    }
    if (pairs[c]) stack.push(pairs[c]!);
    else if (c === stack[stack.length - 1]) {
      stack.pop();
      if (!stack.length) return text.slice(open + 1, i);
    }
  }
  throw new Error(`unbalanced from ${open}`);
}

/** splits at `sep` outside brackets */
function splitTop(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '=' && text[i + 1] === '>') {
      i++;
      continue;
    }
    if ('{([<'.includes(c)) depth++;
    else if ('})]>'.includes(c)) depth--;
    else if (c === sep && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

interface Member {
  name: string;
  optional: boolean;
  type: string;
}

function members(body: string): Member[] {
  return splitTop(body, ';').map((m) => {
    const r = /^(?:'([^']+)'|([A-Za-z_$][\w$]*))(\?)?\s*:\s*([\s\S]+)$/.exec(m);
    if (!r) throw new Error(`cannot read member: ${m}`);
    return { name: r[1] ?? r[2]!, optional: !!r[3], type: r[4]!.trim() };
  });
}

const interfaces = new Map<string, { extends: string[]; members: Member[] }>();
for (const m of source.matchAll(/export interface (\w+)(?:\s+extends\s+([\w\s,]+?))?\s*\{/g)) {
  const open = m.index! + m[0].length - 1;
  interfaces.set(m[1]!, { extends: m[2] ? m[2].split(',').map((s) => s.trim()) : [], members: members(enclosed(source, open)) });
}
const aliases = new Map<string, string>();
for (const m of source.matchAll(/export type (\w+)\s*=\s*/g)) {
  const rest = source.slice(m.index! + m[0].length);
  aliases.set(m[1]!, splitTop(rest, ';')[0]!.replace(/\s+/g, ' ').trim());
}

/** the fields of an interface (with the ones it extends) or of an object-literal alias; null for other types */
function fieldsOf(name: string): Member[] | null {
  const i = interfaces.get(name);
  if (i) return [...i.extends.flatMap((e) => fieldsOf(e) ?? []), ...i.members];
  const a = aliases.get(name);
  if (a?.startsWith('{') && a.endsWith('}')) return members(enclosed(a, 0));
  const record = a && /^Record<(\w+), \w+>$/.exec(a);
  if (record) return literals(record[1]!)!.map((l) => ({ name: l, optional: false, type: 'number' }));
  return null;
}

/** the values of a union of string literals (null for other types) */
function literals(name: string): string[] | null {
  const a = aliases.get(name);
  if (!a) return null;
  const parts = splitTop(a, '|');
  return parts.every((p) => /^'[^']*'$/.test(p)) ? parts.map((p) => p.slice(1, -1)) : null;
}

/** a type as text with its fields sorted, for comparing ( `{ a; b? }`, `X[]`, `A | B` ) */
function normalType(t: string): string {
  t = t.replace(/\s+/g, ' ').trim();
  if (t.startsWith('{') && t.endsWith('}')) {
    return `{ ${members(enclosed(t, 0)).map((m) => m.name + (m.optional ? '?' : '')).sort().join('; ')} }`;
  }
  const parts = splitTop(t, '|');
  return parts.length > 1 ? parts.map(normalType).join(' | ') : t;
}

interface EventSig {
  payload: string;
  ack: string | null;
}

/** `name: (payload: T, ack: (res: R) => void) => void` members of an event map */
function events(map: string): Map<string, EventSig> {
  const i = interfaces.get(map);
  if (!i) throw new Error(`no interface ${map} in events.ts`);
  const out = new Map<string, EventSig>();
  for (const m of i.members) {
    const params = splitTop(enclosed(m.type, m.type.indexOf('(')), ',').map((p) => {
      const r = /^(\w+)\??\s*:\s*([\s\S]+)$/.exec(p)!;
      return { name: r[1]!, type: r[2]!.trim() };
    });
    const ack = params.find((p) => p.name === 'ack');
    const data = params.filter((p) => p.name !== 'ack');
    expect(data.length, `${map}.${m.name}: one payload argument`).toBeLessThanOrEqual(1);
    const ackRes = ack ? splitTop(enclosed(ack.type, ack.type.indexOf('(')), ',')[0]!.replace(/^\w+\s*:\s*/, '') : null;
    out.set(m.name, { payload: data[0] ? normalType(data[0].type) : '', ack: ackRes ? normalType(ackRes) : null });
  }
  return out;
}

// ---------------------------------------------------------------- reading the document

function resolve(ref: string): Json {
  expect(ref.startsWith('#/'), `a local $ref: ${ref}`).toBe(true);
  let at: any = doc;
  for (const part of ref.slice(2).split('/')) {
    at = at?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
    if (at === undefined) throw new Error(`$ref ${ref} does not resolve`);
  }
  return at;
}

const deref = (s: Json): Json => (s.$ref ? deref(resolve(s.$ref)) : s);

/** a payload schema as a TypeScript-ish type text, in the form normalType gives */
function typeOf(s: Json): string {
  if (s.$ref) return s.$ref.split('/').pop();
  if (s.oneOf) return s.oneOf.map(typeOf).join(' | ');
  if (s.type === 'array') return `${typeOf(s.items)}[]`;
  if (s.type === 'object' && s.properties) {
    return `{ ${Object.keys(s.properties).map((k) => k + ((s.required ?? []).includes(k) ? '' : '?')).sort().join('; ')} }`;
  }
  throw new Error(`no type for ${JSON.stringify(s)}`);
}

/** the fields of an object schema, through allOf and $refs: name → required */
function schemaFields(s: Json): Map<string, boolean> {
  s = deref(s);
  const out = new Map<string, boolean>();
  for (const part of s.allOf ?? []) for (const [k, v] of schemaFields(part)) out.set(k, (out.get(k) ?? false) || v);
  for (const k of Object.keys(s.properties ?? {})) out.set(k, (out.get(k) ?? false) || (s.required ?? []).includes(k));
  // a field required here and defined in another part of an allOf
  for (const k of s.required ?? []) if (out.has(k)) out.set(k, true);
  for (const k of s.required ?? []) expect(out.has(k), `required ${k} is a property`).toBe(true);
  return out;
}

/** an operation's messages, as the events they carry */
function operationsOf(channel: string) {
  const ops = Object.entries<Json>(doc.operations).filter(([, op]) => op.channel.$ref === `#/channels/${channel}`);
  return ops.map(([id, op]) => {
    expect(op.messages, `${id}: one message`).toHaveLength(1);
    for (const m of [...op.messages, ...(op.reply?.messages ?? [])]) {
      expect(m.$ref.startsWith(`#/channels/${channel}/messages/`), `${id}: its messages are its channel's`).toBe(true);
    }
    const message = deref(op.messages[0]);
    const reply = op.reply ? deref(op.reply.messages[0]) : null;
    return { id, action: op.action as string, name: message.name as string, message, reply, replyChannel: op.reply?.channel?.$ref };
  });
}

/** JSON schema keywords that validate, without annotations, with unions of constants as enums and $refs resolved */
function normalSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(normalSchema);
  if (!s || typeof s !== 'object') return s;
  let o: Json = { ...(s as Json) };
  if (o.$ref) o = { ...deref(o) };
  const consts = o.anyOf ?? o.oneOf;
  if (Array.isArray(consts) && consts.every((c: Json) => 'const' in c && typeof c.const === 'string')) {
    const { anyOf: _a, oneOf: _o, ...rest } = o;
    o = { ...rest, type: 'string', enum: consts.map((c: Json) => c.const) };
  }
  const out: Json = {};
  for (const k of Object.keys(o).sort()) {
    if (['description', 'examples', 'default', 'title'].includes(k) || k.startsWith('x-')) continue;
    if (k === 'required' || k === 'enum') out[k] = [...o[k]].sort();
    else if (k === 'properties') out[k] = Object.fromEntries(Object.entries<unknown>(o[k]).map(([p, v]) => [p, normalSchema(v)]));
    else out[k] = normalSchema(o[k]);
  }
  return out;
}

// ---------------------------------------------------------------- the checks

/** types of events.ts that are not part of the wire contract */
const INTERNAL = new Set([
  'ViewerClientToServerEvents', 'ViewerServerToClientEvents', 'HostClientToServerEvents', 'HostServerToClientEvents',
  'ViewerSocketData', 'HostSocketData',
]);
/** socket.io's own events, documented though no event map declares them */
const RESERVED = new Set(['connect_error']);

const NAMESPACES = [
  { channel: 'viewer', address: '/viewer', fromClient: 'ViewerClientToServerEvents', fromServer: 'ViewerServerToClientEvents' },
  { channel: 'host', address: '/host', fromClient: 'HostClientToServerEvents', fromServer: 'HostServerToClientEvents' },
];

describe('docs/asyncapi.yaml', () => {
  it('is an AsyncAPI 3.0 document whose references all resolve', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect(typeof doc.info?.title).toBe('string');
    expect(typeof doc.info?.version).toBe('string');
    const refs: string[] = [];
    (function walk(o: unknown) {
      if (Array.isArray(o)) o.forEach(walk);
      else if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) k === '$ref' ? refs.push(v as string) : walk(v);
    })(doc);
    expect(refs.length).toBeGreaterThan(50);
    for (const r of refs) expect(() => resolve(r), r).not.toThrow();
    for (const [id, op] of Object.entries<Json>(doc.operations)) {
      expect(['send', 'receive'], `${id}.action`).toContain(op.action);
      expect(op.channel?.$ref, `${id}.channel`).toMatch(/^#\/channels\/\w+$/);
      if (op.reply) expect(op.reply.channel.$ref, `${id}: the ack comes back on the same namespace`).toBe(op.channel.$ref);
    }
    // every message of a channel is used by an operation
    for (const [name, ch] of Object.entries<Json>(doc.channels)) {
      const used = new Set(
        Object.values<Json>(doc.operations)
          .filter((op) => op.channel.$ref === `#/channels/${name}`)
          .flatMap((op) => [...op.messages, ...(op.reply?.messages ?? [])].map((m: Json) => m.$ref)),
      );
      for (const m of Object.keys(ch.messages)) expect(used.has(`#/channels/${name}/messages/${m}`), `${name}/${m} is used`).toBe(true);
    }
  });

  for (const ns of NAMESPACES) {
    it(`${ns.address}: the same events, directions, payloads and acks as events.ts`, () => {
      expect(doc.channels[ns.channel].address).toBe(ns.address);
      const ops = operationsOf(ns.channel).filter((o) => !RESERVED.has(o.name));
      for (const [map, action] of [[ns.fromClient, 'receive'], [ns.fromServer, 'send']] as const) {
        const code = events(map);
        const documented = ops.filter((o) => o.action === action);
        expect(documented.map((o) => o.name).sort(), `${map}: the events, in the document and in events.ts`).toEqual([...code.keys()].sort());
        for (const o of documented) {
          const sig = code.get(o.name)!;
          expect(typeOf(o.message.payload), `${o.name}: the payload`).toBe(sig.payload);
          expect(o.reply ? typeOf(o.reply.payload) : null, `${o.name}: the ack`).toBe(sig.ack);
        }
      }
    });
  }

  it('documents every type of the contract with the same fields', () => {
    const schemas: Json = doc.components.schemas;
    const contract = [...interfaces.keys(), ...aliases.keys()].filter((n) => !INTERNAL.has(n));
    const missing = contract.filter((n) => !(n in schemas));
    expect(missing, 'types of events.ts with no schema in docs/asyncapi.yaml').toEqual([]);
    for (const name of contract) {
      const fields = fieldsOf(name);
      if (fields) {
        const want = Object.fromEntries(fields.map((f) => [f.name, !f.optional]));
        expect(Object.fromEntries(schemaFields(schemas[name])), `${name}: fields (true: required)`).toEqual(want);
      }
      const values = name === 'EventType' ? [...EVENT_TYPES] : literals(name);
      if (values) expect([...deref(schemas[name]).enum].sort(), `${name}: values`).toEqual([...values].sort());
    }
    // the two unions of object types: their variants
    const kinds = [...aliases.get('ActivityItem')!.matchAll(/type: '(\w+)'/g)].map((m) => m[1]);
    const variants = schemas.ActivityItem.allOf[1].oneOf.map((v: Json) => v.properties.type.const);
    expect(variants.sort()).toEqual(kinds.sort());
    expect(typeOf(schemas.HostPushAck)).toBe(normalType(aliases.get('HostPushAck')!));
    // the constants events.ts exports
    expect(schemas.Tier.enum).toEqual([...TIERS]);
    expect(schemas.Lifecycle.enum).toEqual([...LIFECYCLES]);
  });

  it('gives the event data and the host push exactly the schemas the server validates with', () => {
    const track: Json = doc.components.schemas.TrackEvent;
    const { oneOf: _variants, ...envelope } = track;
    expect(normalSchema({ ...envelope, properties: { ...envelope.properties, data: { type: 'object' } } })).toEqual(
      normalSchema({ ...EventEnvelope, properties: { ...EventEnvelope.properties, data: { type: 'object' } } }),
    );
    for (const type of EVENT_TYPES) {
      const variant = track.oneOf.find((v: Json) => v.properties.type.const === type);
      expect(variant, `a TrackEvent variant for ${type}`).toBeTruthy();
      expect(normalSchema(variant.properties.data), `${type}: data`).toEqual(normalSchema(EventData[type]));
      // data is optional exactly where the server lets it be left out
      const withoutData = checkEvent({ id: 'e-1', type, ts: 0 });
      const required = !withoutData.ok && withoutData.reason === `data is required for ${type}`;
      expect((variant.required ?? []).includes('data'), `${type}: data required`).toBe(required);
    }
    expect(track.oneOf).toHaveLength(EVENT_TYPES.length);
    expect(normalSchema(doc.components.schemas.HostPushRequest)).toEqual(normalSchema(HostPushBody));
  });

  it('has examples that match their payloads', () => {
    const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true });
    ajv.addSchema(doc, 'asyncapi');
    let checked = 0;
    for (const [name, message] of Object.entries<Json>(doc.components.messages)) {
      const validate = ajv.getSchema(`asyncapi#/components/messages/${name}/payload`)!;
      for (const ex of message.examples ?? []) {
        expect(validate(ex.payload), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
  });
});
