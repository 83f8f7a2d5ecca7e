/** For assert.rejects: the error has this stable code, and its message or hints match `message`. */
import assert from 'node:assert/strict';

export const errorCode =
  (code: string, message?: RegExp) =>
  (err: Error & { code?: string }): boolean => {
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.match(`${err.message}\n${String((err as { hints?: string[] }).hints)}`, message);
    return true;
  };
