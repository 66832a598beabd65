export { ALL_TARGET, Kernel, KernelError } from "./kernel.ts";
export { defineModule, type ModuleContext, type ModuleDefinition, type ModuleInstance } from "./module.ts";
