/**
 * Base64 for the protocol layer: the codec's implementation, with failures reported as
 * `DmError` `BAD_BASE64` (DM carries nonces, credentials and MACs as base64, DMREPPRO 4.1.1.2).
 */
import { fromBase64 as decode, toBase64, type FromBase64Options } from '../wbxml/base64.js';
import { isWbxmlError } from '../wbxml/errors.js';
import { DmError } from './errors.js';

export { toBase64, type FromBase64Options };

/**
 * Decodes standard-alphabet base64. Throws DmError `BAD_BASE64` (with the character offset) for
 * characters outside the alphabet, misplaced `=`, or a dangling single character.
 * @public
 */
export function fromBase64(text: string, options: FromBase64Options = {}): Uint8Array {
  try {
    return decode(text, options);
  } catch (e) {
    if (isWbxmlError(e)) throw new DmError('BAD_BASE64', e.detail, { offset: e.offset });
    throw e;
  }
}
