/**
 * ONNX ModelProto reading and writing with protobufjs, from the vendored schema `onnx.proto` (loaded at run
 * time, once). Shared by the inference engine (metadata, input/output checks) and the graph interpreter
 * (nodes, initializers, attributes), and used to write trained weights back into a copy of a model.
 *
 * Conventions:
 * - Field names are protobufjs' camelCase (`irVersion`, `opsetImport`, `rawData`, `opType`, `metadataProps`…).
 * - Every int64 field of a DECODED model is a `Long` (protobufjs' util.Long), always; models built in code may use
 *   plain numbers. Use `toNumber()` to read one either way.
 * - Tensor bytes (`rawData`) are kept as the exact bytes of the file and written back unchanged; `floatData` etc.
 *   round-trip exactly (float32 → JS number → float32 is lossless). Field order on write is protobufjs' (by field
 *   number), so the file bytes may be ordered differently from the source, but every value, weight bit included,
 *   is the same; unknown fields are dropped.
 */
import { readFileSync } from 'node:fs';
import { readFile, writeFile, rename, unlink } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import protobuf from 'protobufjs';

export type Long = protobuf.Long;
export type Int64 = number | Long;

export interface StringStringEntryProto { key?: string; value?: string }
export interface OperatorSetIdProto { domain?: string; version?: Int64 }

export interface TensorProto {
  dims?: Int64[];
  dataType?: number;
  name?: string;
  docString?: string;
  floatData?: number[];
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: Int64[];
  doubleData?: number[];
  uint64Data?: Int64[];
  rawData?: Uint8Array;
  externalData?: StringStringEntryProto[];
  dataLocation?: number;
}

export interface TensorShapeDimension { dimValue?: Int64; dimParam?: string; denotation?: string }
export interface TypeProto {
  tensorType?: { elemType?: number; shape?: { dim?: TensorShapeDimension[] } };
  denotation?: string;
  [other: string]: unknown;
}
export interface ValueInfoProto { name?: string; type?: TypeProto; docString?: string }

export interface AttributeProto {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  [other: string]: unknown;
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
  [other: string]: unknown;
}

export interface ModelProto {
  irVersion?: Int64;
  opsetImport?: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntryProto[];
  [other: string]: unknown;
}

/** TensorProto.DataType values. */
export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9,
  GRAPHS: 10, SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
} as const;

const PROTO_PATH = fileURLToPath(new URL('./onnx.proto', import.meta.url));
let modelType: protobuf.Type | null = null;

/** The onnx.ModelProto type, parsed from the vendored onnx.proto on first use. */
export function modelProtoType(): protobuf.Type {
  if (!modelType) {
    const root = new protobuf.Root();
    root.loadSync(PROTO_PATH, { keepCase: false });
    modelType = root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

/** A number from an int64 field (Long or number). Throws if it does not fit a double exactly. */
export function toNumber(v: Int64 | null | undefined): number {
  if (v == null) return 0;
  if (typeof v === 'number') return v;
  const hi = v.unsigned ? v.high >>> 0 : v.high | 0;
  const n = hi * 4294967296 + (v.low >>> 0);
  if (!Number.isSafeInteger(n)) {
    const big = (BigInt(hi) << 32n) + BigInt(v.low >>> 0);
    throw new RangeError(`int64 value ${big} does not fit a JS number`);
  }
  return n;
}

/** Decode ONNX bytes. Throws a one-line error (prefixed with `what`, e.g. the file name) when they are not a ModelProto. */
export function decodeModel(bytes: Uint8Array, what = 'ONNX data'): ModelProto {
  let model: ModelProto;
  try {
    model = modelProtoType().decode(bytes) as unknown as ModelProto;
  } catch (e) {
    throw new Error(`${what}: not a valid ONNX model (${oneLine(e)})`);
  }
  if (!model.graph || !model.opsetImport || model.opsetImport.length === 0) {
    throw new Error(`${what}: not a valid ONNX model (no graph or no opset import)`);
  }
  return model;
}

/** Encode a model (decoded or built as a plain object) to bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  const T = modelProtoType();
  const msg = model instanceof protobuf.Message ? model : T.fromObject(model as Record<string, unknown>);
  return T.encode(msg).finish();
}

export async function readModelFile(file: string): Promise<ModelProto> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read model file (${oneLine(e)})`);
  }
  return decodeModel(bytes, file);
}

export function readModelFileSync(file: string): ModelProto {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read model file (${oneLine(e)})`);
  }
  return decodeModel(bytes, file);
}

/** Write atomically (temporary file in the same folder, then rename). */
export async function writeModelFile(file: string, model: ModelProto | Uint8Array): Promise<void> {
  const bytes = model instanceof Uint8Array ? model : encodeModel(model);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

// ---- metadata --------------------------------------------------------------------------------------------

export function getMetadata(model: ModelProto): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of model.metadataProps ?? []) if (e.key) out[e.key] = e.value ?? '';
  return out;
}

export function setMetadata(model: ModelProto, key: string, value: string): void {
  const props = model.metadataProps ?? (model.metadataProps = []);
  const hit = props.find((e) => e.key === key);
  if (hit) hit.value = value;
  else props.push({ key, value });
}

// ---- graph inputs / outputs ------------------------------------------------------------------------------

export interface TensorInfo {
  name: string;
  elemType: number;
  /** One entry per axis: a fixed size, a symbolic name, or null when unknown. */
  shape: (number | string | null)[] | null;
}

function valueInfo(vi: ValueInfoProto): TensorInfo {
  const tt = vi.type?.tensorType;
  const dims = tt?.shape?.dim;
  return {
    name: vi.name ?? '',
    elemType: tt?.elemType ?? 0,
    shape: dims ? dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue != null && hasValue(d, 'dimValue') ? toNumber(d.dimValue) : null)) : null,
  };
}

function hasValue(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** The graph's real inputs (initializers listed as inputs, as older exporters do, are left out). */
export function graphInputs(model: ModelProto): TensorInfo[] {
  const g = model.graph ?? {};
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  return (g.input ?? []).filter((vi) => !inits.has(vi.name)).map(valueInfo);
}

export function graphOutputs(model: ModelProto): TensorInfo[] {
  return (model.graph?.output ?? []).map(valueInfo);
}

export function opsetVersion(model: ModelProto, domain = ''): number | null {
  for (const o of model.opsetImport ?? []) if ((o.domain ?? '') === domain || (domain === '' && o.domain === 'ai.onnx')) return toNumber(o.version);
  return null;
}

// ---- attributes ------------------------------------------------------------------------------------------

export type AttributeValue = number | number[] | string | string[] | TensorProto | TensorProto[] | GraphProto | GraphProto[] | null;

const utf8 = new TextDecoder();

/** The value of an attribute, by its declared type (ints as numbers, strings decoded as UTF-8). */
export function attributeValue(a: AttributeProto): AttributeValue {
  switch (a.type) {
    case AttributeType.FLOAT: return a.f ?? 0;
    case AttributeType.INT: return toNumber(a.i);
    case AttributeType.STRING: return utf8.decode(a.s ?? new Uint8Array());
    case AttributeType.TENSOR: return a.t ?? null;
    case AttributeType.GRAPH: return a.g ?? null;
    case AttributeType.FLOATS: return [...(a.floats ?? [])];
    case AttributeType.INTS: return (a.ints ?? []).map(toNumber);
    case AttributeType.STRINGS: return (a.strings ?? []).map((s) => utf8.decode(s));
    case AttributeType.TENSORS: return a.tensors ?? [];
    case AttributeType.GRAPHS: return a.graphs ?? [];
    default: return null;
  }
}

/** Attributes of a node as a name → value map. */
export function nodeAttributes(node: NodeProto): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const a of node.attribute ?? []) if (a.name) out[a.name] = attributeValue(a);
  return out;
}

/** Build an attribute from a JS value (number → INT when integral unless `asFloat`, number[] → INTS/FLOATS, string → STRING). */
export function makeAttribute(name: string, value: number | number[] | string | string[] | TensorProto, asFloat = false): AttributeProto {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return asFloat || !Number.isInteger(value) ? { name, type: AttributeType.FLOAT, f: value } : { name, type: AttributeType.INT, i: value };
  }
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) return { name, type: AttributeType.STRINGS, strings: (value as string[]).map((s) => new TextEncoder().encode(s)) };
    const nums = value as number[];
    return asFloat || nums.some((v) => !Number.isInteger(v)) ? { name, type: AttributeType.FLOATS, floats: nums } : { name, type: AttributeType.INTS, ints: nums };
  }
  return { name, type: AttributeType.TENSOR, t: value };
}

// ---- tensors ---------------------------------------------------------------------------------------------

export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map(toNumber);
}

function elementCount(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** A float32 copy of a FLOAT (or DOUBLE / FLOAT16) tensor's values. */
export function tensorToFloat32(t: TensorProto): Float32Array {
  if (t.dataLocation === 1) throw new Error(`tensor ${t.name}: external data is not supported`);
  const n = elementCount(tensorDims(t));
  const raw = t.rawData;
  const type = t.dataType ?? DataType.FLOAT;
  if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(n);
    if (type === DataType.FLOAT) {
      if (raw.byteLength !== 4 * n) throw new Error(`tensor ${t.name}: raw_data has ${raw.byteLength} bytes, expected ${4 * n}`);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
    } else if (type === DataType.DOUBLE) {
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
    } else if (type === DataType.FLOAT16) {
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
    } else {
      throw new Error(`tensor ${t.name}: data type ${type} is not a float type`);
    }
    return out;
  }
  if (type === DataType.FLOAT) return Float32Array.from(t.floatData ?? []);
  if (type === DataType.DOUBLE) return Float32Array.from(t.doubleData ?? []);
  if (type === DataType.FLOAT16) return Float32Array.from((t.int32Data ?? []).map(halfToFloat));
  throw new Error(`tensor ${t.name}: data type ${type} is not a float type`);
}

/** Integer tensor values (INT64 / INT32 / …) as numbers. */
export function tensorToInts(t: TensorProto): number[] {
  const raw = t.rawData;
  const type = t.dataType ?? 0;
  const n = elementCount(tensorDims(t));
  if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      if (type === DataType.INT64) out.push(Number(view.getBigInt64(8 * i, true)));
      else if (type === DataType.INT32) out.push(view.getInt32(4 * i, true));
      else throw new Error(`tensor ${t.name}: data type ${type} is not an integer type handled here`);
    }
    return out;
  }
  if (type === DataType.INT64) return (t.int64Data ?? []).map(toNumber);
  return [...(t.int32Data ?? [])];
}

/** A FLOAT tensor with its values stored as little-endian raw_data (what exporters write). */
export function float32Tensor(name: string, dims: number[], data: ArrayLike<number>): TensorProto {
  if (elementCount(dims) !== data.length) throw new Error(`tensor ${name}: ${data.length} values for dims [${dims}]`);
  const raw = new Uint8Array(4 * data.length);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: raw };
}

export function int64Tensor(name: string, dims: number[], data: number[]): TensorProto {
  const raw = new Uint8Array(8 * data.length);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) view.setBigInt64(8 * i, BigInt(data[i]), true);
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: raw };
}

/** Replace a float tensor's values in place, keeping its name, dims and storage kind (raw_data when it had none). */
export function setTensorFloat32(t: TensorProto, data: ArrayLike<number>): void {
  const n = elementCount(tensorDims(t));
  if (data.length !== n) throw new Error(`tensor ${t.name}: ${data.length} values, expected ${n}`);
  const fresh = float32Tensor(t.name ?? '', tensorDims(t), data);
  t.dataType = DataType.FLOAT;
  t.rawData = fresh.rawData;
  t.floatData = [];
  t.doubleData = [];
}

/** The initializers of the main graph by name. */
export function initializerMap(model: ModelProto): Map<string, TensorProto> {
  const m = new Map<string, TensorProto>();
  for (const t of model.graph?.initializer ?? []) if (t.name) m.set(t.name, t);
  return m;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n').map((s) => s.trim()).filter(Boolean).join(' ').slice(0, 400);
}
