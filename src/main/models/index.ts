export { CATALOG, catalogEntry, DEMUCS_ROOT_URL, fileUrl, type CatalogEntry, type WeightFile } from './catalog';
export { DownloadError, downloadFile, sha256File, type FetchFn } from './download';
export { ModelStore, modelNotInstalled, type DownloadCallOptions, type ModelStoreOptions } from './store';
