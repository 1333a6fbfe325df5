/**
 * Recovery codes leave the app only as the user asks: copied to the clipboard or saved as a
 * text file, built here, in the browser (nothing is sent anywhere).
 */

/** The file's name: `portcullis-recovery-codes-<account>.txt`. */
export function recoveryCodesFileName(username: string): string {
  const safe = username.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `portcullis-recovery-codes${safe ? '-' + safe : ''}.txt`;
}

/** The codes as text, one a line, with what they are for. */
export function recoveryCodesText(codes: readonly string[], username: string, now: Date = new Date()): string {
  return [
    $localize`:@@core.recoveryCodes.fileTitle:Portcullis recovery codes for ${username}:username:`,
    $localize`:@@core.recoveryCodes.fileCreated:Created ${now.toISOString()}:createdAt:`,
    '',
    $localize`:@@core.recoveryCodes.fileUse:Each code signs in once, in place of a code from your authenticator app.`,
    $localize`:@@core.recoveryCodes.fileKeep:Keep them somewhere safe; new codes replace all of these.`,
    '',
    ...codes,
    '',
  ].join('\n');
}

/** Copies the codes to the clipboard; false when the browser refuses (no clipboard access). */
export async function copyRecoveryCodes(
  codes: readonly string[],
  username: string,
  clipboard: Pick<Clipboard, 'writeText'> | undefined = navigator.clipboard,
): Promise<boolean> {
  if (!clipboard) return false;
  try {
    await clipboard.writeText(recoveryCodesText(codes, username));
    return true;
  } catch {
    return false;
  }
}

/** Saves the codes as a .txt file through the browser's download. */
export function downloadRecoveryCodes(codes: readonly string[], username: string, doc: Document = document): void {
  const blob = new Blob([recoveryCodesText(codes, username)], { type: 'text/plain;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const link = doc.createElement('a');
  link.href = url;
  link.download = recoveryCodesFileName(username);
  link.rel = 'noopener';
  link.style.display = 'none';
  doc.body.appendChild(link);
  try {
    link.click();
  } finally {
    link.remove();
    // Let the download start before the URL goes.
    setTimeout(() => URL.revokeObjectURL(url), 1_000);
  }
}
