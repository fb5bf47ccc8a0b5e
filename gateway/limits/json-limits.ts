/** The JSON structural limits live with the decoder that enforces them (layers/protocol/json-limits.ts). */
export {
  checkJsonLimits,
  DEFAULT_JSON_LIMITS,
  type JsonLimits,
  type JsonShape,
} from "../../layers/protocol/json-limits";
