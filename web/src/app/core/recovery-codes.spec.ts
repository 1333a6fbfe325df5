import {
  copyRecoveryCodes,
  downloadRecoveryCodes,
  recoveryCodesFileName,
  recoveryCodesText,
} from './recovery-codes';

const CODES = ['abcd-efgh-ijkm-npqr', 'stuv-wxyz-2345-6789'];

describe('recovery codes: text, copy, download', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes the codes one a line, under what they are for', () => {
    const text = recoveryCodesText(CODES, 'alice', new Date('2026-02-03T04:05:06Z'));
    const lines = text.split('\n');
    expect(lines[0]).toBe('Portcullis recovery codes for alice');
    expect(lines[1]).toBe('Created 2026-02-03T04:05:06.000Z');
    expect(lines.slice(-3)).toEqual([...CODES, '']);
    expect(text.match(/^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/gm)).toEqual(CODES);
  });

  it('names the file after the account, safely', () => {
    expect(recoveryCodesFileName('alice')).toBe('portcullis-recovery-codes-alice.txt');
    expect(recoveryCodesFileName('a/b c')).toBe('portcullis-recovery-codes-a_b_c.txt');
    expect(recoveryCodesFileName('')).toBe('portcullis-recovery-codes.txt');
  });

  it('copies the text to the clipboard, and says false when the browser refuses', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    expect(await copyRecoveryCodes(CODES, 'alice', { writeText })).toBe(true);
    expect(writeText).toHaveBeenCalledTimes(1);
    expect(writeText.mock.calls[0][0]).toContain('abcd-efgh-ijkm-npqr\nstuv-wxyz-2345-6789\n');

    const refuse = vi.fn().mockRejectedValue(new DOMException('denied', 'NotAllowedError'));
    expect(await copyRecoveryCodes(CODES, 'alice', { writeText: refuse })).toBe(false);
    expect(await copyRecoveryCodes(CODES, 'alice', undefined)).toBe(false);
  });

  it('downloads a .txt file made in the browser, and lets its URL go', async () => {
    vi.useFakeTimers();
    const blobs: Blob[] = [];
    const create = vi.fn((blob: Blob) => {
      blobs.push(blob);
      return 'blob:http://localhost/1';
    });
    const revoke = vi.fn();
    Object.assign(URL, { createObjectURL: create, revokeObjectURL: revoke });
    const clicked: HTMLAnchorElement[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this);
    });
    try {
      downloadRecoveryCodes(CODES, 'alice');
      expect(clicked).toHaveLength(1);
      expect(clicked[0].download).toBe('portcullis-recovery-codes-alice.txt');
      expect(clicked[0].href).toBe('blob:http://localhost/1');
      expect(clicked[0].isConnected).toBe(false);
      expect(blobs[0].type).toBe('text/plain;charset=utf-8');
      const saved = await blobs[0].text();
      expect(saved.split('\n')[0]).toBe('Portcullis recovery codes for alice');
      expect(saved.endsWith('abcd-efgh-ijkm-npqr\nstuv-wxyz-2345-6789\n')).toBe(true);
      expect(revoke).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1_000);
      expect(revoke).toHaveBeenCalledWith('blob:http://localhost/1');
    } finally {
      vi.useRealTimers();
    }
  });
});
