/**
 * Stands in for `protobufjs/minimal` in the browser build. @datadog/sketches-js requires it lazily, only to serialise a
 * sketch to its protobuf wire format (`toProto` / `fromProto`), which streamlab never does: our sketches are plain
 * data (src/sim/apm/sketch.ts) and travel as JSON. The bundler still follows that `require`, so the alias in
 * vite.config.ts points it here; any use fails loudly instead of shipping protobufjs for nothing.
 */
function unavailable(): never {
  throw new Error('protobuf serialisation of sketches is not part of streamlab (protobufjs is not bundled)');
}

export const Reader = { create: unavailable };
export const Writer = { create: unavailable };
export const util = {};
export const roots: Record<string, unknown> = {};
export default { Reader, Writer, util, roots };
