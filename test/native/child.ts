/**
 * The start of a child process script (node -e) that loads the built library and its own copy of
 * the native double: \`createKoffiApi\`, \`createWts\`, \`koffi\`, \`lib\` and the double's set-up
 * functions \`add\`, \`put\`, \`setLocal\` and \`setLatency\` are in scope after it.
 */
import { ROOT } from '../helpers';

export const childPrelude = (doublePath: string): string => `
    const DOUBLE = ${JSON.stringify(doublePath)};
    const { createKoffiApi, createWts } = require(${JSON.stringify(ROOT)} + '/dist/index.js');
    const koffi = require('koffi');
    const lib = koffi.load(DOUBLE);
    const add = lib.func('int WtsDouble_AddServer(const char16_t *, uint32_t, uint32_t, uint32_t, int)');
    const put = lib.func('int WtsDouble_PutSession(const char16_t *, uint32_t, int, const char16_t *, const char16_t *, const char16_t *, const char16_t *, uint32_t, const uint8_t *, uint32_t)');
    const setLocal = lib.func('int WtsDouble_SetLocalServer(const char16_t *)');
    const setLatency = lib.func('int WtsDouble_SetLatency(const char16_t *, int, uint32_t)');
`;
