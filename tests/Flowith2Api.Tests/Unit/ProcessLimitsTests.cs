using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.Tests.Unit;

public sealed class ProcessLimitsTests
{
    [Fact]
    public void The_soft_open_file_limit_is_read_from_the_limits_table()
    {
        string[] table =
        [
            "Limit                     Soft Limit           Hard Limit           Units",
            "Max processes             unlimited            unlimited            processes",
            "Max open files            20000                40000                files",
            "Max locked memory         8388608              8388608              bytes",
        ];

        Assert.Equal(20000, ProcessLimits.ParseOpenFileLimit(table));
    }

    [Theory]
    [InlineData("Max open files            unlimited            unlimited            files")]
    [InlineData("Max processes             1024                 1024                 processes")]
    public void An_unlimited_or_missing_limit_is_no_limit(string row) =>
        Assert.Null(ProcessLimits.ParseOpenFileLimit([row]));

    [Fact]
    public void Connections_keep_a_reserve_of_descriptors_back_on_this_machine()
    {
        if (ProcessLimits.OpenFileLimit is not { } limit)
        {
            Assert.Null(ProcessLimits.ConnectionBudget);
            return;
        }

        Assert.Equal((int)Math.Max(64, limit - ProcessLimits.ReservedDescriptors), ProcessLimits.ConnectionBudget);
    }
}
