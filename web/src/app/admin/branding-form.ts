import { AbstractControl, NonNullableFormBuilder, ValidationErrors, ValidatorFn, Validators } from '@angular/forms';

import { Branding, BrandingChange, LOGO_MAX_BYTES, LOGO_TYPES } from './branding-api';

/** `#rrggbb`, as the server takes a colour. */
export const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;
/** The colour the colour picker starts at when there is none (Bootstrap's primary). */
export const DEFAULT_COLOR = '#0d6efd';

/** 1 to `max` characters once trimmed. */
function trimmedLength(max: number): ValidatorFn {
  return (control: AbstractControl): ValidationErrors | null => {
    const value = String(control.value ?? '').trim();
    if (value === '') return null; // `required`'s business
    return value.length > max ? { maxlength: { requiredLength: max, actualLength: value.length } } : null;
  };
}

/** An http or https URL of at most 2000 characters (empty is left to the pair rule). */
export function httpUrl(control: AbstractControl): ValidationErrors | null {
  const value = String(control.value ?? '').trim();
  if (value === '') return null;
  if (value.length > 2000) return { url: true };
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? null : { url: true };
  } catch {
    return { url: true };
  }
}

/** The footer link's text and URL come together or not at all. */
function bothOrNeither(group: AbstractControl): ValidationErrors | null {
  const text = String(group.get('footerText')?.value ?? '').trim();
  const url = String(group.get('footerUrl')?.value ?? '').trim();
  return (text === '') === (url === '') ? null : { footerHalf: true };
}

/** A colour is needed unless "no colour" is ticked. */
function colorUnlessNone(group: AbstractControl): ValidationErrors | null {
  if (group.get('noColor')?.value) return null;
  return HEX_COLOR.test(String(group.get('color')?.value ?? '')) ? null : { color: true };
}

export function buildBrandingForm(fb: NonNullableFormBuilder) {
  return fb.group(
    {
      productName: ['', [Validators.required, Validators.pattern(/\S/), trimmedLength(60)]],
      noColor: [true],
      color: [DEFAULT_COLOR],
      footerText: ['', trimmedLength(60)],
      footerUrl: ['', httpUrl],
    },
    { validators: [bothOrNeither, colorUnlessNone] },
  );
}

export type BrandingForm = ReturnType<typeof buildBrandingForm>;
export type BrandingValue = ReturnType<BrandingForm['getRawValue']>;

/** The form's value for the branding as the server has it. */
export function formValue(branding: Branding): BrandingValue {
  return {
    productName: branding.productName,
    noColor: branding.primaryColor === null,
    color: branding.primaryColor ?? DEFAULT_COLOR,
    footerText: branding.footerLink?.text ?? '',
    footerUrl: branding.footerLink?.url ?? '',
  };
}

/** The body of `PUT /api/admin/branding` for what the form holds. */
export function brandingChange(value: BrandingValue): BrandingChange {
  const text = value.footerText.trim();
  const url = value.footerUrl.trim();
  return {
    productName: value.productName.trim(),
    primaryColor: value.noColor ? null : value.color.toLowerCase(),
    footerLink: text === '' ? null : { text, url },
  };
}

/** Why a chosen file cannot be the logo, as the server would refuse it; null when it can. */
export function logoProblem(file: File): string | null {
  if (!LOGO_TYPES.includes(file.type)) return $localize`:@@admin.branding.logoWrongType:The logo must be a PNG, JPEG, WebP or SVG image.`;
  if (file.size > LOGO_MAX_BYTES) return $localize`:@@admin.branding.logoTooLarge:The logo must be at most 64 KiB.`;
  return null;
}
