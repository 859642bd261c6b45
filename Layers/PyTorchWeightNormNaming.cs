namespace NeuralCore.Layers;

/// <summary>
/// The two names PyTorch gives a weight-normalized layer's magnitude <c>g</c> and direction <c>v</c> in a state dict
/// (see <see cref="PyTorchStateDict"/>). The tensors and their shapes are the same under both.
/// </summary>
public enum PyTorchWeightNormNaming
{
    /// <summary>
    /// <c>X.weight_g</c>, <c>X.weight_v</c>: <c>torch.nn.utils.weight_norm</c> (deprecated since PyTorch 2.1, still the
    /// most widely loadable: the newer parametrization loads these names too). NeuralCore's own names.
    /// </summary>
    WeightGV,

    /// <summary>
    /// <c>X.parametrizations.weight.original0</c> (= g), <c>X.parametrizations.weight.original1</c> (= v):
    /// <c>torch.nn.utils.parametrizations.weight_norm</c> (PyTorch ≥ 2.1).
    /// </summary>
    Parametrizations,
}
