// No imports: main.ts uses it before anything else has loaded.

/** Removes secrets that may hide inside free-form error text (SAS signatures, account keys). */
export function scrubSecrets(text: string): string {
  return text
    .replace(/(AccountKey|SharedAccessKey|SharedAccessSignature)=[^;\s"]+/gi, '$1=[redacted]')
    .replace(/([?&]sig=)[^&\s"]+/gi, '$1[redacted]')
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1[redacted]');
}
