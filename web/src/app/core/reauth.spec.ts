import { HttpErrorResponse } from '@angular/common/http';
import { Observable, of, throwError } from 'rxjs';

import { Reauthentication } from './reauth';

const forbidden = (code: string, message = code) =>
  new HttpErrorResponse({ status: 403, error: { code, message } });

describe('Reauthentication', () => {
  function calls(...answers: (unknown | HttpErrorResponse)[]) {
    const seen: (string | undefined)[] = [];
    const call = (password?: string): Observable<unknown> => {
      seen.push(password);
      const answer = answers.shift();
      return answer instanceof HttpErrorResponse ? throwError(() => answer) : of(answer);
    };
    return { call, seen };
  }

  it('runs once without a password when no reauthentication is asked for', () => {
    const gate = new Reauthentication();
    const { call, seen } = calls({ message: 'ok' });
    const next = vi.fn();
    gate.run('Remove it', call, { next, error: vi.fn() });
    expect(seen).toEqual([undefined]);
    expect(next).toHaveBeenCalledWith({ message: 'ok' });
    expect(gate.pending()).toBeNull();
  });

  it('asks, retries with the password, keeps asking after a wrong one, and ends on success', () => {
    const gate = new Reauthentication();
    const { call, seen } = calls(
      forbidden('reauthentication_required'),
      forbidden('wrong_password', 'Current password is incorrect.'),
      { message: 'done' },
    );
    const next = vi.fn();
    const error = vi.fn();
    const asked = vi.fn();
    gate.run('Remove it', call, { next, error, asked });
    expect(gate.pending()).toBe('Remove it');
    expect(asked).toHaveBeenCalledTimes(1);
    gate.confirm('wrong');
    expect(gate.error()).toBe('Current password is incorrect.');
    expect(gate.pending()).toBe('Remove it');
    gate.confirm('right');
    expect(seen).toEqual([undefined, 'wrong', 'right']);
    expect(next).toHaveBeenCalledWith({ message: 'done' });
    expect(error).not.toHaveBeenCalled();
    expect(gate.pending()).toBeNull();
    expect(gate.error()).toBe('');
  });

  it('hands any other failure to the caller', () => {
    const gate = new Reauthentication();
    const notFound = new HttpErrorResponse({ status: 404, error: { code: 'not_found', message: 'Not found.' } });
    const { call } = calls(forbidden('reauthentication_required'), notFound);
    const error = vi.fn();
    gate.run('Remove it', call, { next: vi.fn(), error });
    gate.confirm('pw');
    expect(error).toHaveBeenCalledWith(notFound);
    expect(gate.pending()).toBeNull();
  });
});
