// Defensive decoding of @polkadot/api values for the e2e suites: read a field, an integer, an
// enum variant or an Option, and fail at once with the value's shape when it is not what the
// suite expects (a ShapeError is never retried), instead of timing out on `undefined`.

/** A value whose shape differs from what the suite expects (fails at once, no retry). */
export class ShapeError extends Error {}

export const bigintJson = (_, x) => (typeof x === 'bigint' ? x.toString() : x);

/** Short printable form of a codec / value for messages. */
export function show(v) {
  try {
    if (v && typeof v.toHuman === 'function') return JSON.stringify(v.toHuman());
    return JSON.stringify(v, bigintJson);
  } catch {
    return String(v);
  }
}

/** Field `name` (camelCase) of a Struct / event data / object; ShapeError if it is missing. */
export function field(struct, name) {
  if (struct === null || struct === undefined) throw new ShapeError(`cannot read field ${name} of ${struct}`);
  let v;
  if (struct instanceof Map) v = struct.get(name);
  if (v === undefined) v = struct[name];
  if (v === undefined) {
    const type = typeof struct.toRawType === 'function' ? struct.toRawType() : typeof struct;
    throw new ShapeError(`field \`${name}\` missing in ${show(struct)} (type ${type})`);
  }
  return v;
}

/** Like `field` but undefined instead of an error (for diagnostics only). */
export function softField(struct, name) {
  try {
    return field(struct, name);
  } catch {
    return undefined;
  }
}

/** Option codec -> inner codec or null; anything else unchanged. */
export function unwrapOption(v) {
  if (v && typeof v.isSome === 'boolean' && typeof v.unwrap === 'function') return v.isSome ? v.unwrap() : null;
  return v;
}

/** Any integer-like value (codec, Compact, bigint, number, decimal or hex string) -> bigint. */
export function big(v) {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string') return BigInt(v);
  if (v && typeof v.toBigInt === 'function') return v.toBigInt();
  if (v && typeof v.unwrap === 'function') return big(v.unwrap());
  throw new ShapeError(`not an integer: ${show(v)}`);
}
export const num = (v) => Number(big(v));

/** Enum variant name ('Active', 'Collecting', ...), or null for None; numbers stay numbers. */
export function variant(v) {
  const inner = unwrapOption(v);
  if (inner === null || inner === undefined) return null;
  if (typeof inner === 'string') return inner;
  if (typeof inner.type === 'string' && typeof inner.isBasic === 'boolean') return inner.type; // Enum
  const json = typeof inner.toJSON === 'function' ? inner.toJSON() : inner;
  const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  if (typeof json === 'string') return cap(json);
  if (typeof json === 'number') return json; // e.g. a phase given as u8
  if (json && typeof json === 'object' && Object.keys(json).length === 1) return cap(Object.keys(json)[0]);
  throw new ShapeError(`not an enum: ${show(inner)}`);
}

/** Number of entries of a Vec, or the number itself (event fields that may be a list or a count). */
export function countOf(v) {
  if (v === undefined) return '?';
  if (v && typeof v.length === 'number' && typeof v.toBigInt !== 'function') return v.length;
  try {
    return num(v);
  } catch {
    return show(v);
  }
}
