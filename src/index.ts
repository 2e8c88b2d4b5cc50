/**
 * syncml-dm: OMA DM 1.2 for TypeScript. The root entry re-exports the codec and the typed SyncML
 * layer; the protocol and its edges have their own subpaths (`syncml-dm/dm`, `syncml-dm/server`,
 * `syncml-dm/client`).
 * @packageDocumentation
 */
export * from './wbxml/index.js';
export * from './syncml/index.js';
export * from './wbxml/dom.js';
