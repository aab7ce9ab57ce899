import type { Action, Module } from "./bindings";

/** The modules in the order of the permission table, with their labels. */
export const MODULES: [Module, string][] = [
  ["users", "Users & invitations"],
  ["roles", "Roles & permissions"],
  ["settings", "Organization settings"],
  ["audit", "Audit log"],
  ["transactions", "Transactions"],
  ["recovery_profiles", "Recovery profiles"],
  ["recovery_activity", "Recovery activity"],
  ["analytics", "Analytics & reports"],
  ["gateways", "Gateway profiles"],
  ["developer", "API keys & webhooks"],
  ["customers", "Customer support"],
];

export const ACTIONS: Action[] = ["create", "read", "update", "delete"];
