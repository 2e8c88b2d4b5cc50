/**
 * syncml-dm: OMA DM 1.2 for TypeScript. The root entry re-exports the codec; the protocol layers
 * have their own subpaths (`syncml-dm/syncml`, `syncml-dm/dm`, `syncml-dm/server`, `syncml-dm/client`).
 * @packageDocumentation
 */
export * from './wbxml/index.js';
