/** Per-tensor conversions (JSON data and wire bytes) under one import path. */
export { tensorBytes, tensorFromBytes } from "./binary";
export { tensorFromJSON, tensorToJSONData } from "./json";
