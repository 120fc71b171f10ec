import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

/** A budget alert threshold: a fraction of the budget, on current or forecasted spend. */
export interface BudgetThreshold {
  readonly fraction: number;
  readonly basis: "CURRENT_SPEND" | "FORECASTED_SPEND";
}

export interface BudgetArgs {
  /** The project the budget is filtered to; the topic and the email channels are made in it. */
  readonly project: string;
  /**
   * The billing account the budget is set on (`warmstart:billingAccount`).
   * @example "0A1B2C-3D4E5F-6A7B8C"
   */
  readonly billingAccount: string;
  /** The monthly amount, in whole units of the billing account's currency (`warmstart:monthlyBudget`). */
  readonly monthlyBudget: number;
  /** Who hears of the thresholds, each address through an email channel of its own (`warmstart:alertEmails`). */
  readonly alertEmails: readonly string[];
  /**
   * When the emails go out (`warmstart:budgetThresholds`).
   * @example [{ fraction: 0.9, basis: "CURRENT_SPEND" }, { fraction: 1, basis: "FORECASTED_SPEND" }]
   */
  readonly thresholds: readonly BudgetThreshold[];
  /** Whether the budget guard acts on this budget (`warmstart:budgetGuard`); only the over-budget warning says so. */
  readonly guarded: boolean;
  /** What the warm schedule alone costs a month (the cost model's estimate): above `monthlyBudget`, a warning. */
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
    if (args.warmScheduleMonthlyCost > args.monthlyBudget) {
      void pulumi.log.warn(
        `the warm schedule alone costs about ${args.warmScheduleMonthlyCost.toFixed(2)} a month, more than warmstart:monthlyBudget (${args.monthlyBudget}); shorten warmstart:warmWindows or raise the budget${args.guarded ? ", or the budget guard will stop the service mid-month" : ""}`,
        this,
      );
    }

    // The Budget API needs a quota project: without one, calls made with user credentials fail.
    const billingProvider = new gcp.Provider(`${name}-billing`, { project: args.project, billingProject: args.project, userProjectOverride: true }, parent);

    this.topic = new gcp.pubsub.Topic(`${name}-budget-updates`, { name: `${name}-budget-updates`, project: args.project }, parent);
    new gcp.pubsub.TopicIAMMember(`${name}-budget-publisher`, { project: args.project, topic: this.topic.name, role: "roles/pubsub.publisher", member: BUDGET_PUBLISHER }, parent);

    this.notificationChannels = args.alertEmails.map(
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
        billingAccount: args.billingAccount,
        displayName: `${name} monthly (warmstart)`,
        budgetFilter: {
          projects: [pulumi.interpolate`projects/${project.number}`],
          services: [CLOUD_RUN_BILLING_SERVICE],
          calendarPeriod: "MONTH",
          creditTypesTreatment: "INCLUDE_ALL_CREDITS",
        },
        amount: { specifiedAmount: { units: String(args.monthlyBudget) } },
        thresholdRules: args.thresholds.map((t) => ({ thresholdPercent: t.fraction, spendBasis: t.basis })),
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
