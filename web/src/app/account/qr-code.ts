import { Component, effect, input, signal } from '@angular/core';
import { toString as qrToString } from 'qrcode';

/**
 * A QR code of `value`, drawn here in the browser (an SVG as a data URL: no service sees
 * the value, which may be a TOTP secret).
 */
@Component({
  selector: 'app-qr-code',
  templateUrl: './qr-code.html',
})
export class QrCode {
  readonly value = input.required<string>();
  readonly label = input($localize`:@@account.qrCode.label:QR code`);

  protected readonly src = signal('');
  protected readonly failed = signal(false);

  constructor() {
    effect(() => {
      const value = this.value();
      this.src.set('');
      this.failed.set(false);
      qrToString(value, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })
        .then((svg) => {
          if (this.value() === value) {
            this.src.set(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`);
          }
        })
        .catch(() => this.failed.set(true));
    });
  }
}
