namespace NeuralCore.Optimizers.Schedules;

/// <summary>How a <see cref="Scheduler"/> turns a schedule's value into a hyperparameter.</summary>
public enum ScheduleMode
{
    /// <summary>The value multiplies each group's initial setting (learning rates: groups keep their ratios).</summary>
    Relative,

    /// <summary>The value is the setting itself, in every group (β1 = 0.5).</summary>
    Absolute,
}
