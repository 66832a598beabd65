// Why a re-export: the sniffer moved to @beep/blob so every service storing images shares it.
export { IMAGE_TYPES, type ImageType, isImageType, sniffImageType } from "@beep/blob";
