import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../paths';
import { MESSAGE_FIELDS, parseMessage, PROTOCOL_VERSION } from './protocol';

const golden = JSON.parse(readFileSync(join(appRoot(), 'python', 'sfa_sidecar', 'protocol.json'), 'utf8')) as {
  version: number;
  toSidecar: unknown;
  fromSidecar: unknown;
};

describe('the sidecar protocol (python/sfa_sidecar/protocol.json, also checked by pytest)', () => {
  it('declares the same messages and fields as the Python side', () => {
    expect(PROTOCOL_VERSION).toBe(golden.version);
    expect(MESSAGE_FIELDS.toSidecar).toEqual(golden.toSidecar);
    expect(MESSAGE_FIELDS.fromSidecar).toEqual(golden.fromSidecar);
  });

  it('reads an unknown error code as INTERNAL and ignores lines that are not messages', () => {
    expect(parseMessage('{"type":"error","id":"1","code":"NOPE","message":"m"}')).toMatchObject({ code: 'INTERNAL', message: 'm' });
    expect(parseMessage('{"type":"error","id":"1","code":"NOT_AUDIO","message":"m"}')).toMatchObject({ code: 'NOT_AUDIO' });
    expect(parseMessage('not json')).toBeNull();
    expect(parseMessage('[1]')).toBeNull();
  });
});
