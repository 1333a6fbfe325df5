import { TestBed } from '@angular/core/testing';

import { AdminNotices, AdminToast, NOTICE_MS } from './notices';

describe('AdminToast', () => {
  afterEach(() => vi.useRealTimers());

  it('shows the newest confirmation in a live region that is always there, until it times out', async () => {
    const fixture = TestBed.createComponent(AdminToast);
    const notices = TestBed.inject(AdminNotices);
    await fixture.whenStable();
    vi.useFakeTimers();
    const region = fixture.nativeElement.querySelector('[data-testid="admin-toast-region"]') as HTMLElement;
    expect(region.getAttribute('role')).toBe('status');
    expect(region.textContent?.trim()).toBe('');

    notices.say('alice is now disabled.');
    notices.say('Group finance deleted.', 'groups-notice');
    fixture.detectChanges();
    expect(fixture.nativeElement.querySelector('[data-testid="groups-notice"]')?.textContent?.trim()).toBe('Group finance deleted.');
    expect(fixture.nativeElement.querySelectorAll('[data-testid="admin-confirmation"]').length).toBe(1);

    vi.advanceTimersByTime(NOTICE_MS - 1);
    fixture.detectChanges();
    expect(fixture.nativeElement.querySelector('[data-testid="admin-confirmation"]')).not.toBeNull();
    vi.advanceTimersByTime(1);
    fixture.detectChanges();
    expect(fixture.nativeElement.querySelector('[data-testid="admin-confirmation"]')).toBeNull();
  });

  it('is dismissed by its close button, and by leaving the page', async () => {
    const fixture = TestBed.createComponent(AdminToast);
    const notices = TestBed.inject(AdminNotices);
    notices.say('alice is deleted.');
    await fixture.whenStable();
    (fixture.nativeElement.querySelector('button[aria-label="Dismiss"]') as HTMLButtonElement).click();
    await fixture.whenStable();
    expect(notices.current()).toBeNull();

    notices.say('bob is deleted.');
    fixture.destroy();
    expect(notices.current()).toBeNull();
  });
});
