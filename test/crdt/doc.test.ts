import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  applyJsonMergePatch,
  applyYjsUpdate,
  canonicalJson,
  DocUpdateMissingDependenciesError,
  docDelta,
  docFromJson,
  docToJson,
  InvalidDocJsonError,
  InvalidDocUpdateError,
  type JsonValue,
  mergeDocStates,
  replaceDocJson,
} from '../../src/crdt/index.ts';

/** RFC 7386 reference implementation on plain JSON. */
function mergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, JsonValue> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

const key = fc.constantFrom('a', 'b', 'c', 'd');
const leaf = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 3 }),
);
const { obj } = fc.letrec((tie) => ({
  obj: fc.dictionary(key, fc.oneof({ depthSize: 'small' }, leaf, tie('obj')), { maxKeys: 3 }),
}));
const { patch } = fc.letrec((tie) => ({
  patch: fc.dictionary(key, fc.oneof({ depthSize: 'small' }, leaf, fc.constant(null), tie('patch')), { maxKeys: 3 }),
}));

describe('JSON view of doc states', () => {
  it('round-trips a JSON object, keys sorted at every level', () => {
    fc.assert(
      fc.property(obj, (json) => {
        const state = docFromJson(json, { clientId: 7 });
        expect(canonicalJson(docToJson(state))).toBe(canonicalJson(json));
        expect(JSON.stringify(docToJson(state))).toBe(canonicalJson(json));
      }),
    );
  });

  it('applies JSON merge patches exactly as RFC 7386, including nested objects', () => {
    fc.assert(
      fc.property(obj, fc.array(patch, { minLength: 1, maxLength: 4 }), (json, patches) => {
        let state = docFromJson(json, { clientId: 1 });
        let expected = json as JsonValue;
        patches.forEach((p, i) => {
          state = applyJsonMergePatch(state, p, { clientId: 100 + i });
          expected = mergePatch(expected, p as JsonValue);
        });
        expect(canonicalJson(docToJson(state))).toBe(canonicalJson(expected));
      }),
    );
  });

  it('replace (PUT) makes the view equal the new JSON', () => {
    fc.assert(
      fc.property(obj, obj, (a, b) => {
        const state = replaceDocJson(docFromJson(a, { clientId: 1 }), b, { clientId: 2 });
        expect(canonicalJson(docToJson(state))).toBe(canonicalJson(b));
      }),
    );
  });

  it('refuses JSON that is not an object', () => {
    for (const bad of [[1], 'x', 3, null]) {
      expect(() => docFromJson(bad, { clientId: 1 })).toThrow(InvalidDocJsonError);
      expect(() => applyJsonMergePatch(undefined, bad, { clientId: 1 })).toThrow(InvalidDocJsonError);
    }
  });

  it('keeps a "__proto__" member as data', () => {
    const json = JSON.parse('{"__proto__": {"x": 1}, "a": 2}');
    const view = docToJson(docFromJson(json, { clientId: 1 }));
    expect(Object.getPrototypeOf(view)).toBe(Object.prototype);
    expect(canonicalJson(view)).toBe('{"__proto__":{"x":1},"a":2}');
  });
});

describe('concurrent doc edits', () => {
  const base = docFromJson({ title: 't', meta: { views: 1, tags: ['x'] } }, { clientId: 1 });

  it('keeps concurrent edits of different fields, nested ones too', () => {
    const left = applyJsonMergePatch(base, { title: 'left', meta: { views: 2 } }, { clientId: 2 });
    const right = applyJsonMergePatch(base, { body: 'b', meta: { tags: null, lang: 'en' } }, { clientId: 3 });
    const merged = docToJson(mergeDocStates(left, right));
    expect(merged).toEqual({ body: 'b', meta: { lang: 'en', views: 2 }, title: 'left' });
  });

  it('resolves concurrent edits of the same field to the same value in either order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (c1, c2) => {
        fc.pre(c1 !== c2);
        const a = applyJsonMergePatch(base, { title: 'A' }, { clientId: c1 });
        const b = applyJsonMergePatch(base, { title: 'B' }, { clientId: c2 });
        const ab = mergeDocStates(a, b);
        expect(Buffer.from(ab)).toEqual(Buffer.from(mergeDocStates(b, a)));
        expect(['A', 'B']).toContain(docToJson(ab).title);
      }),
      { numRuns: 50 },
    );
  });

  it('a delta carries only what the other replica lacks', () => {
    const edited = applyJsonMergePatch(base, { title: 'new' }, { clientId: 9 });
    const delta = docDelta(edited, base);
    expect(delta.byteLength).toBeLessThan(edited.byteLength);
    expect(docToJson(applyYjsUpdate(base, delta))).toEqual(docToJson(edited));
  });
});

describe('raw Yjs updates', () => {
  it('applies an update made by a Yjs client on the same state', () => {
    const state = docFromJson({ a: 1 }, { clientId: 1 });
    const client = new Y.Doc();
    Y.applyUpdate(client, state);
    const updates: Uint8Array[] = [];
    client.on('update', (u: Uint8Array) => updates.push(u));
    client.getMap('root').set('b', 'from-client');
    const next = applyYjsUpdate(state, updates[0]);
    expect(docToJson(next)).toEqual({ a: 1, b: 'from-client' });
  });

  it('rejects garbage with a clear error class, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (bytes) => {
        try {
          applyYjsUpdate(undefined, bytes);
        } catch (err) {
          expect(err instanceof InvalidDocUpdateError || err instanceof DocUpdateMissingDependenciesError).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
    expect(() => applyYjsUpdate(undefined, Uint8Array.of(0xff, 0xff, 0xff))).toThrow(InvalidDocUpdateError);
  });

  it('rejects an update that builds on operations this replica has not seen', () => {
    const base = docFromJson({ a: 1 }, { clientId: 1 });
    const newer = applyJsonMergePatch(base, { b: 2 }, { clientId: 2 });
    const newest = applyJsonMergePatch(newer, { b: 3 }, { clientId: 3 });
    const onlyLast = docDelta(newest, newer);
    expect(() => applyYjsUpdate(base, onlyLast)).toThrow(DocUpdateMissingDependenciesError);
  });
});
