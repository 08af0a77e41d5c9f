/** How a shell spells the URL of an engine asset ("preview/<id>"): a fixed prefix and suffix around the path. */
export interface AssetUrlForm {
  prefix: string;
  suffix: string;
}

/** Plain data rather than a function, so the form can cross into the engine's process. */
export function assetUrlOf(form: AssetUrlForm, assetPath: string): string {
  return form.prefix + assetPath.split('/').map(encodeURIComponent).join('/') + form.suffix;
}
