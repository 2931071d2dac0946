/**
 * Builds contract-honouring ONNX graphs (opset 17) from weights, with `onnx-proto`:
 * - linear: `x [N,L,F]` → Flatten → MatMul W `[L*F, 1]` → Add b → Relu → `y [N,1]`;
 * - GRU: `x` → Transpose to `[L,N,F]` (onnxruntime refuses `layout=1`) → GRU (gates z, r, h; `linear_before_reset=0`,
 *   matching tfjs, which only supports `resetAfter=false`) → last hidden state `[N,H]` → MatMul → Add → Softplus → `y`.
 * @module
 */
import onnxPkg from 'onnx-proto';
import { CONTRACT_VERSION, FEATURE_COUNT, FEATURE_NAMES, INPUT_NAME, META, OUTPUT_NAME } from './contract.ts';

const { onnx } = onnxPkg;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

function floatTensor(name: string, dims: number[], data: Float32Array): onnxPkg.onnx.ITensorProto {
  const copy = Float32Array.from(data);
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(copy.buffer) };
}

function int64Tensor(name: string, values: number[]): onnxPkg.onnx.ITensorProto {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return { name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer) };
}

function valueInfo(name: string, dims: Array<number | string>): onnxPkg.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Common model envelope: I/O declarations and contract metadata. */
function wrap(
  nodes: onnxPkg.onnx.INodeProto[],
  initializer: onnxPkg.onnx.ITensorProto[],
  lookback: number,
  horizon: number,
  name: string,
  extraMeta: Record<string, string>,
): Uint8Array {
  const meta: Record<string, string> = {
    [META.contract]: CONTRACT_VERSION,
    [META.features]: FEATURE_NAMES.join(','),
    [META.horizon]: String(horizon),
    [META.lookback]: String(lookback),
    [META.name]: name,
    ...extraMeta,
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'shoal',
    producerVersion: '0.1.0',
    graph: {
      name,
      node: nodes,
      initializer,
      input: [valueInfo(INPUT_NAME, ['N', lookback, FEATURE_COUNT])],
      output: [valueInfo(OUTPUT_NAME, ['N', 1])],
    },
    metadataProps: Object.entries(meta).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Weights of the linear (SPAR-style) model: `w` has L*F entries in `[step][feature]` order. */
export interface LinearWeights {
  lookback: number;
  w: Float32Array;
  b: number;
}

/** Serialises a linear model as ONNX. */
export function buildLinearOnnx(
  m: LinearWeights,
  horizon: number,
  name = 'spar',
  meta: Record<string, string> = {},
): Uint8Array {
  const nodes: onnxPkg.onnx.INodeProto[] = [
    { opType: 'Flatten', input: [INPUT_NAME], output: ['flat'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
    { opType: 'MatMul', input: ['flat', 'W'], output: ['mm'] },
    { opType: 'Add', input: ['mm', 'b'], output: ['lin'] },
    { opType: 'Relu', input: ['lin'], output: [OUTPUT_NAME] },
  ];
  const init = [floatTensor('W', [m.lookback * FEATURE_COUNT, 1], m.w), floatTensor('b', [1], Float32Array.of(m.b))];
  return wrap(nodes, init, m.lookback, horizon, name, meta);
}

/**
 * Weights of the GRU model in tfjs/keras layout: `kernel [F, 3H]`, `recurrent [H, 3H]`, `bias [3H]`, gate blocks
 * in order z, r, h; dense `[H, 1]` and `denseBias [1]`.
 */
export interface GruWeights {
  lookback: number;
  hidden: number;
  kernel: Float32Array;
  recurrent: Float32Array;
  bias: Float32Array;
  dense: Float32Array;
  denseBias: number;
}

/** Transposes a row-major `[rows, cols]` matrix. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = m[i * cols + j];
  return out;
}

/** Serialises a GRU model as ONNX. */
export function buildGruOnnx(
  m: GruWeights,
  horizon: number,
  name = 'gru',
  meta: Record<string, string> = {},
): Uint8Array {
  const H = m.hidden;
  const F = FEATURE_COUNT;
  const B = new Float32Array(6 * H);
  B.set(m.bias, 0); // Wb (input bias); Rb stays 0 (tfjs has a single bias with reset_after=false)
  const nodes: onnxPkg.onnx.INodeProto[] = [
    {
      opType: 'Transpose',
      input: [INPUT_NAME],
      output: ['xt'],
      attribute: [{ name: 'perm', type: 7, ints: [1, 0, 2] }],
    },
    {
      opType: 'GRU',
      input: ['xt', 'W', 'R', 'B'],
      output: ['', 'hn'],
      attribute: [
        { name: 'hidden_size', type: 2, i: H },
        { name: 'linear_before_reset', type: 2, i: 0 },
      ],
    },
    { opType: 'Squeeze', input: ['hn', 'axes0'], output: ['h'] },
    { opType: 'MatMul', input: ['h', 'Wd'], output: ['mm'] },
    { opType: 'Add', input: ['mm', 'bd'], output: ['lin'] },
    { opType: 'Softplus', input: ['lin'], output: [OUTPUT_NAME] },
  ];
  const init = [
    floatTensor('W', [1, 3 * H, F], transpose(m.kernel, F, 3 * H)),
    floatTensor('R', [1, 3 * H, H], transpose(m.recurrent, H, 3 * H)),
    floatTensor('B', [1, 6 * H], B),
    int64Tensor('axes0', [0]),
    floatTensor('Wd', [H, 1], m.dense),
    floatTensor('bd', [1], Float32Array.of(m.denseBias)),
  ];
  return wrap(nodes, init, m.lookback, horizon, name, meta);
}

/** Reads the metadata properties of a serialised ONNX model. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnx.ModelProto.decode(bytes);
  const out: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) out[p.key] = p.value ?? '';
  return out;
}
