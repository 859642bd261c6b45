using System.Linq;

namespace NeuralCore.Optimizers.Schedules;

/// <summary>
/// Drives one hyperparameter of an optimizer by a <see cref="Schedule"/>: at construction it sets the value of step
/// 0, and each <see cref="Step"/> moves to the next step's value (PyTorch's <c>scheduler.step()</c>, usually once per
/// epoch or per iteration).
/// </summary>
/// <example>
/// The paper's CIFAR-10 schedule, stepped once per epoch:
/// <code>
/// var adam = new Adam(parameters, learningRate: 0.003);
/// var learningRate = Scheduler.ForLearningRate(adam, new LinearDecaySchedule(holdSteps: 100, decaySteps: 100));
/// var beta1 = Scheduler.ForBeta1(adam, new PiecewiseConstantSchedule([100], [0.9, 0.5]));
/// for (int epoch = 0; epoch &lt; 200; epoch++)
/// {
///     TrainOneEpoch(adam);
///     learningRate.Step();
///     beta1.Step();
/// }
/// </code>
/// </example>
public sealed class Scheduler
{
    private readonly Optimizer _optimizer;
    // Each group's setting when the scheduler was made: Relative mode multiplies these (PyTorch's "initial_lr").
    private readonly double[] _initial;
    private int _step;

    /// <summary>A scheduler of <paramref name="target"/> on every group of <paramref name="optimizer"/>.</summary>
    /// <exception cref="ArgumentException">The optimizer has no such hyperparameter, or the schedule's first value is invalid for it.</exception>
    public Scheduler(Optimizer optimizer, Hyperparameter target, Schedule schedule, ScheduleMode mode)
    {
        if (!optimizer.GroupHyperparameters.Contains(target))
        {
            throw new ArgumentException($"Scheduler: {optimizer.Name} has no {Check.Key(target)} to schedule.", nameof(target));
        }
        _optimizer = optimizer;
        Target = target;
        Schedule = schedule;
        Mode = mode;
        _initial = new double[optimizer.Groups.Count];
        for (int k = 0; k < _initial.Length; k++)
        {
            _initial[k] = optimizer.Groups[k].Get(target)!.Value;
        }
        Apply();
    }

    /// <summary>Scales every group's learning rate by the schedule (groups keep their ratios).</summary>
    public static Scheduler ForLearningRate(Optimizer optimizer, Schedule schedule) =>
        new(optimizer, Hyperparameter.LearningRate, schedule, ScheduleMode.Relative);

    /// <summary>Sets β1 of every group to the schedule's value (the paper drops it from 0.9 to 0.5 halfway).</summary>
    /// <exception cref="ArgumentException">The optimizer has no β1 (SGD, RMSprop).</exception>
    public static Scheduler ForBeta1(Optimizer optimizer, Schedule schedule) =>
        new(optimizer, Hyperparameter.Beta1, schedule, ScheduleMode.Absolute);

    /// <summary>The hyperparameter this scheduler sets.</summary>
    public Hyperparameter Target { get; }

    /// <summary>The schedule it follows.</summary>
    public Schedule Schedule { get; }

    /// <summary>Whether the schedule's value scales each group's initial setting or replaces it.</summary>
    public ScheduleMode Mode { get; }

    /// <summary>The step whose value is in effect: 0 after construction, +1 per <see cref="Step"/>.</summary>
    public int StepCount => _step;

    /// <summary>Each group's setting when the scheduler was made (what <see cref="ScheduleMode.Relative"/> multiplies).</summary>
    public IReadOnlyList<double> InitialValues => _initial;

    /// <summary>Moves to the next step and sets the hyperparameter to its value there.</summary>
    /// <exception cref="ArgumentException">The schedule's value is invalid for the hyperparameter (e.g. β1 ≥ 1).</exception>
    public void Step()
    {
        _step++;
        Apply();
    }

    /// <summary>The scheduler's step and each group's initial setting (the schedule itself is code, not state).</summary>
    public TrainingState StateDict()
    {
        var state = new TrainingState(nameof(Scheduler));
        state.Scalars["step"] = _step;
        state.Scalars["target"] = (int)Target;
        state.Scalars["mode"] = (int)Mode;
        for (int k = 0; k < _initial.Length; k++)
        {
            state.Scalars[$"initial.{k}"] = _initial[k];
        }
        return state;
    }

    /// <summary>Restores a state from <see cref="StateDict"/> and sets the hyperparameter to the restored step's value.</summary>
    /// <exception cref="ArgumentException">The state is not a scheduler's, targets another hyperparameter or mode, or has another number of groups.</exception>
    public void LoadStateDict(TrainingState state)
    {
        const string Op = "Scheduler.LoadStateDict";
        if (state.Kind != nameof(Scheduler))
        {
            throw new ArgumentException($"{Op}: the state was written by {state.Kind}, expected Scheduler.", nameof(state));
        }
        if (state.Scalar("target", "Scheduler") != (int)Target || state.Scalar("mode", "Scheduler") != (int)Mode)
        {
            throw new ArgumentException($"{Op}: the state schedules another hyperparameter or mode than {Check.Key(Target)} ({Mode}).", nameof(state));
        }
        double step = state.Scalar("step", "Scheduler");
        if (!(step >= 0 && step <= int.MaxValue && step == Math.Floor(step)))
        {
            throw new ArgumentException($"{Op}: step = {Check.Format(step)}, expected a whole number >= 0.", nameof(state));
        }
        if (state.Scalars.ContainsKey($"initial.{_initial.Length}") || state.Scalars.Count != 3 + _initial.Length)
        {
            throw new ArgumentException($"{Op}: the state does not have exactly {_initial.Length} groups (the optimizer's).", nameof(state));
        }
        var initial = new double[_initial.Length];
        for (int k = 0; k < initial.Length; k++)
        {
            initial[k] = state.Scalar($"initial.{k}", "Scheduler");
        }
        initial.CopyTo(_initial, 0);
        _step = (int)step;
        Apply();
    }

    private void Apply()
    {
        double value = Schedule.Value(_step);
        for (int k = 0; k < _initial.Length; k++)
        {
            double setting = Mode == ScheduleMode.Relative ? _initial[k] * value : value;
            if (!Check.IsValid(Target, setting))
            {
                throw new ArgumentException(
                    $"Scheduler: at step {_step} the schedule sets {_optimizer.Name}'s {Check.Key(Target)} to {Check.Format(setting)} in group {k}, {Check.Expected(Target)}.");
            }
            _optimizer.Groups[k].Set(Target, setting);
        }
    }
}
