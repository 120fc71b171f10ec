import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { BudgetConfig } from "../../config/types";

/** A budget alert threshold: a fraction of the budget, on current or forecasted spend. */
export interface BudgetThreshold {
  readonly fraction: number;
  readonly basis: "CURRENT_SPEND" | "FORECASTED_SPEND";
}

export interface BudgetArgs {
  /** Billing account, amount, alert emails and thresholds (`warmstart:billingAccount`, `monthlyBudget`, ...). */
  readonly budget: BudgetConfig & { readonly billingAccount: string };
  readonly project: string;
  /** Name prefix for the topic and channels, e.g. the service name. */
  readonly prefix: string;
  /** What the warm schedule alone costs a month, to warn when it already exceeds the budget. */
  readonly warmScheduleMonthlyCost: number;
}

/** Cloud Run's service id in the Cloud Billing catalog, for the budget's service filter. */
export const CLOUD_RUN_BILLING_SERVICE = "services/152E-C115-5142";
/** The account Cloud Billing publishes budget notifications as. */
const BUDGET_PUBLISHER = "serviceAccount:billing-budget-alert@system.gserviceaccount.com";

/**
 * A monthly budget on the billing account, filtered to this project (by number, as the API wants) and to Cloud Run,
 * with email alerts at the configured thresholds and every update published to a Pub/Sub topic for the guard.
 */
export class Budget extends pulumi.ComponentResource {
  public readonly topic: gcp.pubsub.Topic;
  public readonly budget: gcp.billing.Budget;
  public readonly notificationChannels: gcp.monitoring.NotificationChannel[];

  constructor(name: string, args: BudgetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:budget:Budget", name, {}, opts);
    const parent = { parent: this };
    const b = args.budget;
    if (args.warmScheduleMonthlyCost > b.monthlyBudget) {
      void pulumi.log.warn(
        `the warm schedule alone costs about ${args.warmScheduleMonthlyCost.toFixed(2)} a month, more than warmstart:monthlyBudget (${b.monthlyBudget}); shorten warmstart:warmWindows or raise the budget${b.guard ? ", or the budget guard will stop the service mid-month" : ""}`,
        this,
      );
    }

    // The Budget API needs a quota project: without one, calls made with user credentials fail.
    const billingProvider = new gcp.Provider(`${name}-billing`, { project: args.project, billingProject: args.project, userProjectOverride: true }, parent);

    this.topic = new gcp.pubsub.Topic(`${name}-budget-updates`, { name: `${args.prefix}-budget-updates`, project: args.project }, parent);
    new gcp.pubsub.TopicIAMMember(`${name}-budget-publisher`, { project: args.project, topic: this.topic.name, role: "roles/pubsub.publisher", member: BUDGET_PUBLISHER }, parent);

    this.notificationChannels = b.alertEmails.map(
      (email) =>
        new gcp.monitoring.NotificationChannel(
          `${name}-email-${email.replace(/[^a-zA-Z0-9]+/g, "-").toLowerCase()}`,
          { project: args.project, type: "email", displayName: `warmstart budget: ${email}`, labels: { email_address: email } },
          parent,
        ),
    );

    const project = gcp.organizations.getProjectOutput({ projectId: args.project }, { parent: this });
    this.budget = new gcp.billing.Budget(
      `${name}-budget`,
      {
        billingAccount: b.billingAccount,
        displayName: `${args.prefix} monthly (warmstart)`,
        budgetFilter: {
          projects: [pulumi.interpolate`projects/${project.number}`],
          services: [CLOUD_RUN_BILLING_SERVICE],
          calendarPeriod: "MONTH",
          creditTypesTreatment: "INCLUDE_ALL_CREDITS",
        },
        amount: { specifiedAmount: { units: String(b.monthlyBudget) } },
        thresholdRules: b.thresholds.map((t) => ({ thresholdPercent: t.fraction, spendBasis: t.basis })),
        allUpdatesRule: {
          pubsubTopic: this.topic.id,
          schemaVersion: "1.0",
          monitoringNotificationChannels: this.notificationChannels.map((c) => c.id),
          disableDefaultIamRecipients: false,
        },
      },
      { ...parent, provider: billingProvider },
    );
    this.registerOutputs({ topic: this.topic.id, budget: this.budget.id });
  }
}
