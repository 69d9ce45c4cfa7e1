import { describe, expect, it } from 'vitest';
import { asErrorCode, discardsJob, ERROR_CODES, SfaError, toErrorInfo } from './errors';

describe('the closed error list', () => {
  it('reads codes it does not know as INTERNAL, keeping the message', () => {
    expect(asErrorCode('NOT_AUDIO')).toBe('NOT_AUDIO');
    expect(asErrorCode('NO_SUCH_CODE')).toBe('INTERNAL');
    expect(asErrorCode(42)).toBe('INTERNAL');
    expect(toErrorInfo({ code: 'ENOENT', message: 'no such file' })).toEqual({ code: 'INTERNAL', message: 'no such file' });
    expect(toErrorInfo({ code: 'RATE_LIMITED', message: 'slow down' })).toEqual({ code: 'RATE_LIMITED', message: 'slow down' });
    expect(toErrorInfo(new SfaError('DISK_FULL', 'full'))).toEqual({ code: 'DISK_FULL', message: 'full' });
  });

  it('keys the workers’ retry policy from the table: input and environment faults stop the job, transient ones retry', () => {
    for (const code of ['NOT_AUDIO', 'FILE_NOT_FOUND', 'BAD_REQUEST', 'TOO_SHORT', 'SILENT', 'DECODE_FAILED', 'MODEL_UNAVAILABLE', 'MODEL_NOT_INSTALLED', 'DEVICE_UNAVAILABLE', 'SIDECAR_UNAVAILABLE', 'DISK_FULL', 'PERMISSION_DENIED'] as const) {
      expect(discardsJob(code), code).toBe(true);
    }
    for (const code of ['SIDECAR_CRASHED', 'SIDECAR_TIMEOUT', 'OUT_OF_MEMORY', 'RATE_LIMITED', 'DOWNLOAD_FAILED', 'INTERNAL', 'CANCELLED'] as const) {
      expect(discardsJob(code), code).toBe(false);
    }
  });

  it('lists each code once', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const code of ERROR_CODES) expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
  });
});
