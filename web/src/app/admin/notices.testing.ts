import { TestBed } from '@angular/core/testing';

import { AdminNotices } from './notices';

/** For specs: the confirmation on screen if it came from `testid`'s place, else undefined. */
export function said(testid: string): string | undefined {
  const notice = TestBed.inject(AdminNotices).current();
  return notice?.testid === testid ? notice.text : undefined;
}
